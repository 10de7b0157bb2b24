import type { Logger } from 'pino'
import { Codes, HomefactsError } from '#contract'
import { BoardLink } from './board.ts'
import { Controllers } from './cup/controllers.ts'
import { Device } from './device.ts'
import type { BrokerOptions } from './publisher.ts'
import type { ThingSpec } from './spec.ts'

export interface RunOptions {
  things: ThingSpec[]
  /** Serial port of the board, needed when any thing is read by FSR or BUTTON. */
  port?: string | undefined
  broker: BrokerOptions
  stateDir: string
  log: Logger
  discovery?: boolean
  maxOutbox?: number
}

/** Devices running in one process, sharing one board. */
export interface Running {
  devices: Device[]
  board: BoardLink | undefined
  /** One line for each device the broker never accepted (read it before `stop`, which closes the outboxes). */
  neverConnected: () => string[]
  stop: () => Promise<void>
}

/**
 * Opens the board (when a thing needs one) and starts one device per thing. A missing port,
 * or a board that does not answer, is `HF_DEVICE_PORT` before anything connects.
 */
export async function runDevices (opts: RunOptions): Promise<Running> {
  const needsBoard = opts.things.filter((t) => Controllers[t.controller].board)
  let board: BoardLink | undefined
  if (needsBoard.length > 0) {
    if (!opts.port) throw new HomefactsError(Codes.DEVICE_PORT, `${needsBoard.map((t) => `${t.area}/${t.thing}`).join(', ')} read${needsBoard.length === 1 ? 's' : ''} a board: give its serial port with --port (e.g. /dev/ttyACM0), or use --simulate`)
    board = new BoardLink({ port: opts.port, log: opts.log })
    await board.start()
  }
  const devices = opts.things.map((spec) => new Device({
    spec,
    broker: opts.broker,
    stateDir: opts.stateDir,
    log: opts.log,
    board,
    ...(opts.discovery !== undefined ? { discovery: opts.discovery } : {}),
    ...(opts.maxOutbox !== undefined ? { maxOutbox: opts.maxOutbox } : {})
  }))
  for (const d of devices) d.start()
  return {
    devices,
    board,
    neverConnected: () => devices.filter((d) => !d.publisher.everConnected).map((d) => {
      const why = d.publisher.refusal?.message ?? `the broker at ${opts.broker.url} was unreachable`
      const n = d.store.pending()
      return `${d.spec.area}/${d.spec.thing} never connected: ${why}; ${n} message${n === 1 ? ' waits' : 's wait'} in the outbox`
    }),
    stop: async () => {
      await Promise.all(devices.map((d) => d.stop()))
      board?.stop()
    }
  }
}
