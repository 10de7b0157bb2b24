import { createRequire } from 'node:module'
import { pino } from 'pino'
import { BoardLink } from '../../devices/board.ts'

const require = createRequire(import.meta.url)
const { Firmata: MockFirmata } = require('mock-firmata') as { Firmata: new (opts?: object) => MockIO }

interface MockIO {
  on: (event: string, fn: (value: number) => void) => void
  emit: (event: string, ...args: unknown[]) => boolean
  listenerCount: (event: string) => number
}

/**
 * mock-firmata, with reads delivered the way firmata.js delivers them: each report arrives as an
 * `analog-read-<pin>` / `digital-read-<pin>` event and reaches the callback given to the read.
 */
function firmata (): MockIO {
  const io = new MockFirmata()
  Object.assign(io, {
    analogRead (pin: number, cb: (v: number) => void) { io.on(`analog-read-${pin}`, cb) },
    digitalRead (pin: number, cb: (v: number) => void) { io.on(`digital-read-${pin}`, cb) }
  })
  // A board says hello after the port opens, as StandardFirmata does.
  setImmediate(() => {
    io.emit('connect')
    io.emit('ready')
  })
  return io
}

/** A johnny-five board over mock-firmata. `plugIn` controls whether a reconnect finds a board. */
export class MockBoard {
  readonly link: BoardLink
  io: MockIO | null = null
  opened = 0

  constructor (retryMs = 20) {
    this.link = new BoardLink({
      io: () => {
        this.opened++
        this.io = firmata()
        return this.io
      },
      retryMs,
      log: pino({ level: 'silent' })
    })
  }

  analog (pin: number, value: number): void {
    this.io!.emit(`analog-read-${pin}`, value)
  }

  digital (pin: number, value: number): void {
    this.io!.emit(`digital-read-${pin}`, value)
  }

  /** The USB cable is pulled: the serial transport reports a disconnect. */
  unplug (): void {
    this.io!.emit('disconnect')
  }
}
