import { join } from 'node:path'
import type { Logger } from 'pino'
import { availabilityTopic } from '#contract'
import type { BoardLink } from './board.ts'
import { systemClock, type Clock } from './clock.ts'
import { Controllers, SimulatedSource, type FirmataIO } from './cup/controllers.ts'
import { discoveryPayload, discoveryTopic } from './discovery.ts'
import { DevicePublisher, type BrokerOptions } from './publisher.ts'
import { Sensor } from './sensor.ts'
import type { ThingSpec } from './spec.ts'
import { DeviceStore } from './store.ts'

export interface DeviceOptions {
  spec: ThingSpec
  broker: BrokerOptions
  /** Where the store file lives (`<stateDir>/<area>.<thing>.sqlite`); `:memory:` keeps nothing. */
  stateDir: string
  log: Logger
  clock?: Clock
  /** The board for FSR and BUTTON controllers; may be shared by several devices. */
  board?: BoardLink | undefined
  /** Outbox bound, in messages. */
  maxOutbox?: number
  /** Publish Home Assistant discovery (default on). */
  discovery?: boolean
  /** MQTT client id (default `homefacts-device-<area>-<thing>`). */
  clientId?: string
}

/**
 * One thing as a running device: its store, its sensor and its MQTT publisher. Built here,
 * started by `start()`. A simulated device is read through `source`.
 */
export class Device {
  readonly spec: ThingSpec
  readonly store: DeviceStore
  readonly sensor: Sensor
  readonly publisher: DevicePublisher
  readonly source = new SimulatedSource()
  readonly #board: BoardLink | undefined
  readonly #log: Logger
  readonly #onReady = (io: FirmataIO): void => this.#attachBoard(io)
  readonly #onLost = (): void => {
    this.sensor.detach()
    this.publisher.setSensorOnline(false)
  }

  constructor (opts: DeviceOptions) {
    const { spec } = opts
    this.spec = spec
    this.#board = opts.board
    this.#log = opts.log.child({ thing: `${spec.area}/${spec.thing}` })
    if (Controllers[spec.controller].board && !opts.board) throw new TypeError(`controller ${spec.controller} needs a board`)
    this.store = new DeviceStore(opts.stateDir === ':memory:' ? ':memory:' : join(opts.stateDir, `${spec.area}.${spec.thing}.sqlite`), opts.maxOutbox !== undefined ? { maxRows: opts.maxOutbox } : {})
    this.publisher = new DevicePublisher({
      ...opts.broker,
      clientId: opts.clientId ?? `homefacts-device-${spec.area}-${spec.thing}`,
      availabilityTopic: availabilityTopic(spec.area, spec.thing),
      ...(opts.discovery === false ? {} : { discovery: { topic: discoveryTopic(spec.area, spec.thing), payload: JSON.stringify(discoveryPayload(spec.kind, spec.area, spec.thing, spec.name)) } }),
      store: this.store,
      log: this.#log
    })
    this.sensor = new Sensor(spec, { store: this.store, clock: opts.clock ?? systemClock, log: this.#log, onRecorded: () => this.publisher.kick() })
  }

  /** Connects to the broker and starts reading (now, or when the board is ready). */
  start (): void {
    this.publisher.start()
    if (!Controllers[this.spec.controller].board) {
      this.sensor.attach({ source: this.source })
      this.publisher.setSensorOnline(true)
      return
    }
    const board = this.#board!
    board.on('ready', this.#onReady)
    board.on('lost', this.#onLost)
    if (board.io) this.#attachBoard(board.io)
  }

  #attachBoard (io: FirmataIO): void {
    try {
      this.sensor.attach({ io })
      this.publisher.setSensorOnline(true)
    } catch (err) {
      // A bad pin is a configuration error: say which thing, stay offline, keep the rest running.
      this.#log.error({ err: (err as Error).message, pin: this.spec.pin }, 'cannot read this thing on the board')
    }
  }

  /** Says `offline`, disconnects and closes the store. */
  async stop (): Promise<void> {
    this.#board?.off('ready', this.#onReady)
    this.#board?.off('lost', this.#onLost)
    this.sensor.detach()
    await this.publisher.stop()
    this.store.close()
  }
}
