import { buttonContract } from './button-contract.ts'

buttonContract('the SIMULATED controller', {
  controller: 'SIMULATED',
  raw: { down: 1, up: 0 },
  open: async () => ({ drive: (button, raw) => button.source.set(raw), close: () => {} })
})
