import { EventEmitter } from 'node:events'
import mqtt, { type MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import { thingSubject } from '#contract'
import { Mirror, publishClaim } from '#client'
import type { BoardLink } from '../board.ts'
import { systemClock, type Clock } from '../clock.ts'
import { Controllers, SimulatedSource, type FirmataIO } from '../cup/controllers.ts'
import type { BrokerOptions } from '../publisher.ts'
import type { ButtonControllerName, ButtonWiring } from './controllers.ts'
import { PressDetector, type Press } from './presses.ts'
import { outcomeOf } from './actions.ts'

export interface ButtonOptions {
  /** The household member the button speaks for. */
  member: string
  /** Its things, `<area>/<thing>`, in the order a press looks at them. */
  things: readonly string[]
  broker: BrokerOptions
  controller: ButtonControllerName
  wiring: ButtonWiring
  /** The board for the BUTTON controller. */
  board?: BoardLink | undefined
  clock?: Clock
  /** Held this long, a press is a long press ("done"). */
  holdMs?: number
  debounceMs?: number
  log: Logger
  clientId?: string
}

/** What one press did, for the log, the demo and tests. */
export interface PressResult {
  press: Press
  status: 'claimed' | 'refused' | 'resolved' | 'nothing'
  subject?: string
  factId?: string
  detail: string
}

/**
 * A physical "I'll do it" button: a device with its own MQTT user, bound to a member
 * and to things. A press claims the open fact of its things for its member; a long press says it
 * is done. It decides from a mirror of its things' retained states and claims (positive evidence
 * only), and the broker's claim rules stay the authority: a refused claim is logged, not retried.
 */
export class Button extends EventEmitter<{ result: [PressResult] }> {
  readonly source = new SimulatedSource()
  readonly subjects: readonly string[]
  readonly #opts: ButtonOptions
  readonly #log: Logger
  readonly #detector: PressDetector
  #client: MqttClient | null = null
  #mirror: Mirror | null = null
  #chain: Promise<unknown> = Promise.resolve()
  #attached = 0
  readonly #onReady = (io: FirmataIO): void => this.#attach({ io })
  readonly #onLost = (): void => {
    this.#attached++
    this.#detector.cancel()
  }

  constructor (opts: ButtonOptions) {
    super()
    this.#opts = opts
    this.#log = opts.log.child({ button: opts.member })
    this.subjects = opts.things.map((t) => {
      const [area, thing] = t.split('/')
      return thingSubject(area ?? '', thing ?? '')
    })
    if (Controllers[opts.controller].board && !opts.board) throw new TypeError(`controller ${opts.controller} needs a board`)
    this.#detector = new PressDetector({ debounceMs: opts.debounceMs ?? 30, holdMs: opts.holdMs ?? 1000, clock: opts.clock ?? systemClock }, (press) => {
      this.#chain = this.#chain.then(() => this.#pressed(press)).catch((err: unknown) => this.#log.error({ err }, 'press not handled'))
    })
  }

  /** The mirror of its things' states and claims it decides from (`null` until started). */
  get mirror (): Mirror | null {
    return this.#mirror
  }

  /** Connects, mirrors its things, then reads the button (now, or when the board is ready). */
  async start (): Promise<void> {
    const { broker } = this.#opts
    const client = await mqtt.connectAsync(broker.url, {
      clientId: this.#opts.clientId ?? `homefacts-button-${this.#opts.member}`,
      clean: true,
      protocolVersion: 5,
      reconnectPeriod: 1000,
      ...(broker.username !== undefined ? { username: broker.username } : {}),
      ...(broker.password !== undefined ? { password: broker.password } : {})
    })
    this.#client = client
    client.on('error', (err) => this.#log.warn({ err: err.message }, 'button connection error'))
    const mirror = new Mirror({ client, filters: this.subjects.flatMap((s) => [`${s}/state`, `${s}/claim`]) })
    this.#mirror = mirror
    await mirror.start()
    const { board, controller } = this.#opts
    if (!Controllers[controller].board) this.#attach({ source: this.source })
    else {
      board!.on('ready', this.#onReady)
      board!.on('lost', this.#onLost)
      if (board!.io) this.#attach({ io: board!.io })
    }
    this.#log.info({ member: this.#opts.member, things: this.#opts.things }, 'button ready: press to claim, hold to say it is done')
  }

  #attach (ctx: { io?: FirmataIO, source?: SimulatedSource }): void {
    const controller = Controllers[this.#opts.controller]
    const generation = ++this.#attached
    try {
      controller.initialize(ctx, this.#opts.wiring, (raw) => {
        if (generation !== this.#attached || typeof raw !== 'number') return
        this.#detector.feed(controller.toState(raw, this.#opts.wiring) >= 0.5)
      })
    } catch (err) {
      this.#log.error({ err: (err as Error).message, pin: this.#opts.wiring.pin }, 'cannot read the button on the board')
    }
  }

  async #pressed (press: Press): Promise<void> {
    const client = this.#client
    const mirror = this.#mirror
    if (!client || !mirror) return
    const outcome = outcomeOf(press, { member: this.#opts.member, subjects: this.subjects, seen: mirror, now: new Date((this.#opts.clock ?? systemClock).now()), source: `devices/button-${this.#opts.member}` })
    let result: PressResult
    switch (outcome.kind) {
      case 'nothing':
        result = { press, status: 'nothing', detail: outcome.why }
        this.#log.info({ press, why: outcome.why }, `${press === 'press' ? 'press' : 'long press'}: nothing to do (${outcome.why})`)
        break
      case 'claim': {
        const ack = await publishClaim(client, outcome.message)
        const base = { press, subject: outcome.subject, factId: outcome.factId }
        if (ack.status === 'acknowledged') {
          result = { ...base, status: 'claimed', detail: `claimed for ${this.#opts.member}` }
          this.#log.info(base, `claimed ${outcome.subject} for ${this.#opts.member}`)
        } else {
          result = { ...base, status: 'refused', detail: `${ack.reason} (0x${ack.reasonCode.toString(16)})` }
          this.#log.warn({ ...base, reasonCode: ack.reasonCode, reason: ack.reason }, `the broker refused the claim on ${outcome.subject}: ${ack.reason}`)
        }
        break
      }
      case 'resolve':
        // The fact before the state that names it, as a device publishes them.
        for (const m of outcome.messages) await client.publishAsync(m.topic, m.payload, { qos: m.qos, retain: m.retain })
        result = { press, status: 'resolved', subject: outcome.subject, factId: outcome.factId, detail: `${outcome.subject} is done` }
        this.#log.info({ press, subject: outcome.subject, factId: outcome.factId }, `${outcome.subject} is done (long press)`)
        break
    }
    this.emit('result', result)
  }

  /**
   * A simulated press on the real clock (the keyboard, the demo): down, then up after `ms`. Held
   * past `holdMs`, it is a long press.
   */
  simulate (press: Press): void {
    const ms = press === 'press' ? (this.#opts.debounceMs ?? 30) + 20 : (this.#opts.debounceMs ?? 30) + (this.#opts.holdMs ?? 1000) + 20
    this.source.set(1)
    setTimeout(() => this.source.set(0), ms)
  }

  /** Stops reading and disconnects. */
  async stop (): Promise<void> {
    this.#opts.board?.off('ready', this.#onReady)
    this.#opts.board?.off('lost', this.#onLost)
    this.#attached++
    this.#detector.cancel()
    await this.#chain.catch(() => {})
    const client = this.#client
    this.#client = null
    await this.#mirror?.stop()
    await client?.endAsync()
  }
}
