import { buttonContract } from './button-contract.ts'
import { MockBoard } from './mock-board.ts'

buttonContract('the BUTTON controller on johnny-five (mock-firmata), wired to ground with the pull-up', {
  controller: 'BUTTON',
  pin: 2,
  pullup: true,
  raw: { down: 0, up: 1 },
  open: async () => {
    const board = new MockBoard()
    await board.link.start()
    return { board: board.link, drive: (_b, raw) => board.digital(2, raw), close: () => board.link.stop() }
  }
})
