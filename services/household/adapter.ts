import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import { Claim, HomefactsError, Presence, ThingState, checkPublish, deadletterTopic, factName, parseTopic, presenceTopic, type Fact } from '#contract'
import { readClaim, readRetained, readRetainedAll, readState } from '../lib/retained.ts'
import type { HouseholdConfig, Member } from './config.ts'
import { decide, dueFacts, initialState, nextDue, type Decision, type Input, type ResponderState } from './decide.ts'

/** Who a responder connects as; omitted fields connect without them (e.g. an anonymous Mosquitto). */
export interface Credentials {
  username?: string
  password?: string
}

export interface ResponderOptions {
  /** `mqtt://host:port` of the broker (the hub's, or any MQTT 5 broker). */
  url: string
  /** Who to connect as; asked on each `start()` (the hub creates service users on first use). */
  credentials: () => Promise<Credentials>
  member: Member
  household: HouseholdConfig
  log: Logger
  /** The clock; tests may inject one. */
  now?: () => number
  /**
   * Runs after a fact's decision is published and before the fact is acknowledged.
   * A crash test pauses here to kill the process mid-decision.
   */
  beforeAck?: (fact: Fact) => Promise<void>
}

const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * One household member's responder: the MQTT I/O around the pure `decide()`.
 *
 * - The inbox is the member's persistent session (`clean: false`, stable client id, QoS 1),
 *   subscribed to facts only: facts published while the responder is away are queued for it. A
 *   fact is acknowledged only after its decision is published, so a crash mid-decision means the
 *   broker delivers it again (at least once; `decide()` makes the repeat harmless).
 * - mqtt.js handles incoming packets one at a time and holds the rest until `handleMessage`
 *   calls back, so retained reads and publishes go over a clean connection (the outbox).
 * - A third clean connection (the watch) follows claims and states live.
 * All three feed one queue, so `decide()` sees one input at a time.
 */
export class Responder {
  readonly member: Member
  #opts: ResponderOptions
  #now: () => number
  #state: ResponderState
  #inbox: MqttClient | null = null
  #outbox: MqttClient | null = null
  #watch: MqttClient | null = null
  #chain: Promise<unknown> = Promise.resolve()
  #timer: NodeJS.Timeout | undefined
  #log: Logger

  constructor (opts: ResponderOptions) {
    this.member = opts.member
    this.#opts = opts
    this.#now = opts.now ?? Date.now
    this.#log = opts.log.child({ member: opts.member.name })
    // seq starts from the clock, so it keeps growing across restarts without a local file.
    this.#state = initialState(opts.member, opts.household, this.#now())
  }

  get clientId (): string {
    return `household-${this.member.name}`
  }

  /** What the responder remembers (for tests and the demo). */
  get state (): ResponderState {
    return this.#state
  }

  /** Connects, rebuilds open facts from the retained states, then opens the persistent session. */
  async start (): Promise<void> {
    if (this.#inbox) return
    const { url } = this.#opts
    const credentials = await this.#opts.credentials()
    const outbox = await mqtt.connectAsync(url, { clientId: `${this.clientId}-out`, clean: true, protocolVersion: 5, reconnectPeriod: 1000, ...credentials })
    this.#outbox = outbox
    outbox.on('error', (err) => this.#log.warn({ err: err.message }, 'outbox connection error'))
    outbox.on('message', (topic, payload) => {
      if (topic === deadletterTopic(outbox.options.clientId ?? '')) this.#log.info({ letter: payload.toString() }, 'the broker refused a publish')
    })
    await outbox.subscribeAsync(deadletterTopic(`${this.clientId}-out`), { qos: 1 })
    await this.#serial(() => this.#recover())
    const inbox = mqtt.connect(url, {
      clientId: this.clientId,
      clean: false,
      protocolVersion: 5,
      // MQTT 5 ends a session at disconnect unless it is given an expiry [MQTT-3.1.2-23].
      properties: { sessionExpiryInterval: 0xFFFFFFFF },
      reconnectPeriod: 1000,
      ...credentials
    })
    // Installed before CONNACK: the queued facts of a resumed session arrive right after it.
    inbox.handleMessage = (packet, callback) => {
      this.#serial(() => this.#onMessage(packet)).then(() => callback(), (err: unknown) => {
        this.#log.error({ err, topic: packet.topic }, 'could not handle a message; it stays unacknowledged until the next connect')
        callback(err as Error)
      })
    }
    inbox.on('error', (err) => this.#log.warn({ err: err.message }, 'inbox connection error'))
    this.#inbox = inbox
    await new Promise<void>((resolve, reject) => {
      inbox.once('connect', () => resolve())
      inbox.once('error', reject)
    })
    // Only facts in the session. A client subscribed to topics of both kinds can lose a message
    // on an aedes broker that emits a retained publish after a later plain one (see
    // docs/household.md), and facts are what must never be lost.
    const filters = [...new Set(this.member.respondsTo.map((t) => `home/+/+/fact/${factName(t)}`))]
    await inbox.subscribeAsync(filters, { qos: 1 })
    // Claims and states, live, on a clean connection: the first claim seen for a fact is the
    // winner (in broker order, on any broker), and a state that moves on resolves facts.
    const watch = await mqtt.connectAsync(url, { clientId: `${this.clientId}-watch`, clean: true, protocolVersion: 5, reconnectPeriod: 1000, ...credentials })
    this.#watch = watch
    watch.on('error', (err) => this.#log.warn({ err: err.message }, 'watch connection error'))
    watch.on('message', (_topic, _payload, packet) => {
      this.#serial(() => this.#onMessage(packet)).catch((err: unknown) => this.#log.error({ err, topic: packet.topic }, 'could not handle a claim or state'))
    })
    await watch.subscribeAsync(['home/+/+/claim', 'home/+/+/state'], { qos: 1 })
    this.#schedule()
    this.#log.info({ filters }, 'responder started')
  }

  /** Disconnects; the broker keeps the session and queues facts until the next `start()`. */
  async stop (): Promise<void> {
    clearTimeout(this.#timer)
    const { inbox, outbox, watch } = { inbox: this.#inbox, outbox: this.#outbox, watch: this.#watch }
    this.#inbox = null
    this.#outbox = null
    this.#watch = null
    await watch?.endAsync()
    await inbox?.endAsync()
    await outbox?.endAsync()
  }

  #serial<T> (fn: () => Promise<T>): Promise<T> {
    const next = this.#chain.then(fn)
    this.#chain = next.catch(() => {})
    return next
  }

  get #out (): MqttClient {
    if (!this.#outbox) throw new Error(`responder ${this.member.name} is stopped`)
    return this.#outbox
  }

  #read = <T>(what: string, p: Promise<T>): Promise<T | null> => p.catch((err: unknown) => {
    if (!(err instanceof HomefactsError)) throw err
    this.#log.warn({ err: err.message, code: err.code, issues: err.issues }, `ignoring a malformed retained ${what}`)
    return null
  })

  async #recover (): Promise<void> {
    const t = { timeoutMs: this.#opts.household.readTimeoutMs }
    const [states, claims] = await Promise.all([readRetainedAll(this.#out, 'home/+/+/state', t), readRetainedAll(this.#out, 'home/+/+/claim', t)])
    const things = [...states].flatMap(([topic, raw]) => {
      const state = ThingState.safeParse(safeJson(raw))
      if (!state.success) return []
      const subject = topic.slice(0, -'/state'.length)
      const claim = Claim.safeParse(safeJson(claims.get(`${subject}/claim`)))
      return [{ subject, state: state.data, claim: claim.success ? claim.data : null }]
    })
    await this.#apply(decide(this.#state, { kind: 'recover', things }, this.#now()))
  }

  async #onMessage (packet: IPublishPacket): Promise<void> {
    const topic = packet.topic
    let input: Input
    try {
      const checked = checkPublish({ topic, payload: packet.payload, retain: parseTopic(topic)?.kind !== 'fact' })
      switch (checked.kind) {
        case 'fact': input = await this.#factInput(checked.fact); break
        case 'claim': input = { kind: 'claim', subject: checked.topic.subject, claim: checked.claim }; break
        case 'state': input = { kind: 'state', subject: checked.topic.subject, state: checked.state }; break
        default: return
      }
    } catch (err) {
      if (!(err instanceof HomefactsError)) throw err
      // Bad input is logged and acknowledged: sending it again would not make it valid.
      this.#log.warn({ topic, code: err.code, err: err.message, issues: err.issues }, 'ignoring an invalid message')
      return
    }
    const decision = decide(this.#state, input, this.#now())
    if (decision.ignored) this.#log.debug({ topic, ignored: decision.ignored }, 'nothing to decide')
    await this.#apply(decision)
    if (input.kind === 'fact' && !decision.ignored) await this.#opts.beforeAck?.(input.fact)
    this.#schedule()
  }

  /** Reads, at decision time, the retained state and claim of the subject and my presence. */
  async #factInput (fact: Fact): Promise<Input> {
    const t = { timeoutMs: this.#opts.household.readTimeoutMs }
    const [state, claim, presence] = await Promise.all([
      this.#read('state', readState(this.#out, fact.subject, t)),
      this.#read('claim', readClaim(this.#out, fact.subject, t)),
      readRetained(this.#out, presenceTopic(this.member.name), t)
    ])
    const p = presence === null ? null : Presence.safeParse(presence.toString())
    return { kind: 'fact', fact, state, claim, presence: p?.success ? p.data : null }
  }

  /** Publishes what `decide()` asked for, then adopts its state (so a failed publish is retried). */
  async #apply (decision: Decision): Promise<void> {
    // Facts before retained messages: on aedes 2 beta with level persistence a retained publish
    // could be overtaken by a later plain one and then dropped as a duplicate (the hub's broker
    // now keeps them in order; other aedes brokers may not). Retained last avoids the overtaking.
    const publish = [...decision.publish].sort((a, b) => Number(a.retain) - Number(b.retain))
    for (const out of publish) {
      await this.#out.publishAsync(out.topic, out.payload, { qos: out.qos, retain: out.retain })
      if (out.topic.endsWith('/fact/decided')) this.#log.info({ decided: JSON.parse(out.payload).data }, 'decided')
      else this.#log.info({ topic: out.topic, retain: out.retain }, 'published')
    }
    this.#state = decision.state
  }

  #schedule (): void {
    clearTimeout(this.#timer)
    if (!this.#inbox) return
    const next = nextDue(this.#state)
    if (!next) return
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next.at - this.#now()))
    this.#timer = setTimeout(() => {
      if (!this.#inbox) return
      this.#serial(() => this.#onTimer()).then(() => this.#schedule(), (err: unknown) => {
        this.#log.error({ err }, 'escalation check failed; retrying in 1 s')
        this.#timer = setTimeout(() => this.#schedule(), 1000)
      })
    }, delay)
  }

  async #onTimer (): Promise<void> {
    const t = { timeoutMs: this.#opts.household.readTimeoutMs }
    for (const factId of dueFacts(this.#state, this.#now())) {
      const f = this.#state.open[factId]
      if (!f) continue
      const [state, claim] = await Promise.all([this.#read('state', readState(this.#out, f.subject, t)), this.#read('claim', readClaim(this.#out, f.subject, t))])
      await this.#apply(decide(this.#state, { kind: 'due', factId, state, claim }, this.#now()))
    }
  }
}

function safeJson (raw: Buffer | undefined): unknown {
  if (!raw || raw.length === 0) return null
  try {
    return JSON.parse(raw.toString('utf8'))
  } catch {
    return null
  }
}
