import { cupContract } from './cup-contract.ts'

cupContract('the SIMULATED controller', {
  controller: 'SIMULATED',
  raw: { empty: 0.02, full: 0.95, band: 0.5 },
  data: { empty: { level: 0.02, raw: 0.02 }, full: { level: 0.95, raw: 0.95 } },
  open: async () => ({ drive: (device, raw) => device.source.set(raw), close: () => {} })
})
