import { Codes, HomefactsError, SEGMENT } from '#contract'
import { BoardLink } from '../../../devices/board.ts'
import { Button } from '../../../devices/button/button.ts'
import { createLogger } from '../log.ts'
import { stopOnSignals } from './start.ts'

export interface ButtonFlags {
  broker: string
  username?: string
  password?: string
  port?: string
  simulate?: boolean
  logLevel: string
  member: string
  thing: string[]
  pin: string
  pullup?: boolean
  invert?: boolean
  holdMs: number
  stateDir: string
}

const THING = new RegExp(`^${SEGMENT.source.slice(1, -1)}/${SEGMENT.source.slice(1, -1)}$`)

/**
 * `homefacts device button`: a push button on an Arduino (or the keyboard, with `--simulate`) that
 * claims for one member; its MQTT user is a device bound to that member and those things.
 */
export async function runButton (opts: ButtonFlags): Promise<void> {
  if (!SEGMENT.test(opts.member)) throw new HomefactsError(Codes.CONFIG, `--member "${opts.member}" is not lower-case kebab-case`)
  const bad = opts.thing.find((t) => !THING.test(t))
  if (bad) throw new HomefactsError(Codes.CONFIG, `--thing "${bad}" is not <area>/<thing> in lower-case kebab-case, e.g. kitchen/lily-cup`)
  if (!opts.simulate && !opts.port) throw new HomefactsError(Codes.DEVICE_PORT, 'the button reads a board: give its serial port with --port (e.g. /dev/ttyACM0), or use --simulate')
  const log = createLogger({ log: { level: opts.logLevel as 'info' } }, 'homefacts-button')
  let board: BoardLink | undefined
  if (!opts.simulate) {
    board = new BoardLink({ port: opts.port, log })
    await board.start()
  }
  const button = new Button({
    member: opts.member,
    things: opts.thing,
    broker: { url: opts.broker, username: opts.username ?? `${opts.member}-button`, password: opts.password },
    controller: opts.simulate ? 'SIMULATED' : 'BUTTON',
    wiring: { pin: opts.pin, pullup: opts.pullup === true, invert: opts.invert === true },
    board,
    holdMs: opts.holdMs,
    log
  })
  let stopInput = (): void => {}
  stopOnSignals(async () => {
    stopInput()
    await button.stop()
    board?.stop()
  })
  await button.start()
  if (!opts.simulate) return
  if (process.stdin.isTTY) process.stderr.write(`simulating ${opts.member}'s button on ${opts.thing.join(', ')}\nkeys: p = press (I'll do it), d = hold (done), Ctrl-C = stop\n`)
  const onData = (chunk: Buffer | string): void => {
    for (const key of chunk.toString()) {
      if (key === '\u0003') return void process.kill(process.pid, 'SIGINT')
      if (key === 'p' || key === ' ') button.simulate('press')
      else if (key === 'd' || key === 'h') button.simulate('long')
    }
  }
  if (process.stdin.isTTY) process.stdin.setRawMode(true)
  process.stdin.on('data', onData)
  process.stdin.resume()
  stopInput = () => {
    process.stdin.off('data', onData)
    if (process.stdin.isTTY) process.stdin.setRawMode(false)
    process.stdin.pause()
  }
}
