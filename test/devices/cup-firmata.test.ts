import { cupContract } from './cup-contract.ts'
import { MockBoard } from './mock-board.ts'

async function openBoard (pin: number, kind: 'analog' | 'digital') {
  const board = new MockBoard()
  await board.link.start()
  return {
    board: board.link,
    drive: (_device: unknown, raw: number) => kind === 'analog' ? board.analog(pin, raw) : board.digital(pin, raw),
    close: () => board.link.stop()
  }
}

cupContract('the FSR controller on johnny-five (mock-firmata)', {
  controller: 'FSR',
  pin: 'A0',
  calibration: { empty: 200, full: 800 },
  raw: { empty: 215, full: 790, band: 500 },
  data: { empty: { level: 0.025, raw: 215 }, full: { level: 0.983, raw: 790 } },
  open: () => openBoard(0, 'analog')
})

cupContract('the BUTTON controller on johnny-five (mock-firmata)', {
  controller: 'BUTTON',
  pin: 2,
  raw: { empty: 0, full: 1 },
  data: { empty: { level: 0, raw: 0 }, full: { level: 1, raw: 1 } },
  open: () => openBoard(2, 'digital')
})
