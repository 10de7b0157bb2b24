import type { IPublishPacket, MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import { HomefactsError, checkPublish, deadletterTopic, factName, parseTopic, presenceTopic, type Fact } from '#contract'
import { INBOX_SESSION, Mirror, claimRefusalFromDeadLetter, openInbox, publishClaim, type MirrorChange } from '#client'
import { connectMqtt, connectMqttAsync } from '../lib/mqtt.ts'
import type { HouseholdConfig, Member } from './config.ts'
import { decide, initialState, missingEvidence, nextDue, type Decision, type Input, type ResponderState } from './decide.ts'

/** Who a responder connects as; omitted fields connect without them (e.g. an anonymous Mosquitto). */
export interface Credentials {
  username?: string
  password?: string
}

export interface ResponderOptions {
  /** `mqtt://host:port` of the broker (the hub's, or any MQTT 5 broker). */
  url: string
  /** Who to connect as; asked on each `start()` (the hub creates responder users on first use). */
  credentials: () => Promise<Credentials>
  member: Member
  household: HouseholdConfig
  log: Logger
  /** Runs after a fact's decision is published, before it is acknowledged: a crash test kills the process here. */
  beforeAck?: (fact: Fact) => Promise<void>
}

const MAX_TIMER_MS = 2 ** 31 - 1

const PRESENCE_REASONS = new Set(['no-presence', 'unreadable-presence'])

/**
 * One household member's responder: the MQTT I/O around the pure `decide()`.
 *
 * - The inbox is the member's persistent session (`clean: false`, stable client id, QoS 1),
 *   subscribed to facts only: facts published while the responder is away are queued for it. A
 *   fact is acknowledged only after its decision is published, so a crash mid-decision means the
 *   broker delivers it again (at least once; `decide()` makes the repeat harmless).
 * - The outbox is a clean connection that carries the mirror (states, claims and the member's
 *   presence, one subscription for the life of the connection), the member's dead letters and
 *   every publish. mqtt.js holds the inbox's next packet until `handleMessage` calls back, so
 *   nothing that needs an answer can go over the inbox.
 * Facts, mirror changes, refusals and timers feed one queue, so `decide()` sees one input at a time.
 */
export class Responder {
  readonly member: Member
  #opts: ResponderOptions
  #state: ResponderState
  #inbox: MqttClient | null = null
  #outbox: MqttClient | null = null
  #mirror: Mirror | null = null
  #chain: Promise<unknown> = Promise.resolve()
  #timer: NodeJS.Timeout | undefined
  #stopping = new AbortController()
  /** Subjects (and 'presence') whose evidence did not come within the bound; cleared when it changes. */
  #gaveUp = new Set<string>()
  #log: Logger

  constructor (opts: ResponderOptions) {
    this.member = opts.member
    this.#opts = opts
    this.#log = opts.log.child({ member: opts.member.name })
    // seq starts from the clock, so it keeps growing across restarts without a local file.
    this.#state = initialState(opts.member, opts.household, Date.now())
  }

  get clientId (): string {
    return `household-${this.member.name}`
  }

  /** Connects the outbox and its mirror, then opens the persistent session. */
  async start (): Promise<void> {
    if (this.#inbox) return
    this.#stopping = new AbortController()
    this.#gaveUp.clear()
    const { url } = this.#opts
    const credentials = await this.#opts.credentials()
    const outbox = await connectMqttAsync(url, { clientId: `${this.clientId}-out`, clean: true, protocolVersion: 5, reconnectPeriod: 1000, ...credentials })
    this.#outbox = outbox
    outbox.on('error', (err) => this.#log.warn({ err: err.message }, 'outbox connection error'))
    const letters = deadletterTopic(`${this.clientId}-out`)
    outbox.on('message', (topic, payload) => { if (topic === letters) this.#onDeadLetter(payload) })
    const mirror = new Mirror({
      client: outbox,
      filters: ['home/+/+/state', 'home/+/+/claim', 'sites/+/home/+/+/state', 'sites/+/home/+/+/claim', presenceTopic(this.member.name)],
      onUnreadable: (c) => this.#log.warn({ topic: c.topic, code: c.seen.error.code, issues: c.seen.error.issues }, 'unreadable retained value: recorded as unreadable, not as none')
    })
    this.#mirror = mirror
    mirror.onChange((change) => this.#onChange(mirror, change))
    // Recovery is the mirror itself: each state that names a fact of mine rebuilds it as open,
    // whenever it arrives (there is no "replay done" to wait for).
    await mirror.start()
    await outbox.subscribeAsync(letters, { qos: 1 }).catch((err: unknown) => this.#log.warn({ err }, 'no dead-letter subscription: a refused claim is seen only as someone else\'s claim'))
    const inbox = connectMqtt(url, { clientId: this.clientId, ...INBOX_SESSION, reconnectPeriod: 1000, ...credentials })
    this.#inbox = inbox
    inbox.on('error', (err) => this.#log.warn({ err: err.message }, 'inbox connection error'))
    // The session queues facts, which must reach the member's agent even while it is away; the
    // states and claims it decides from come to the mirror, retained, when it is back. This
    // house's things, and those of the houses of the estate it follows.
    const filters = [...new Set(this.member.respondsTo.flatMap((t) => [`home/+/+/fact/${factName(t)}`, `sites/+/home/+/+/fact/${factName(t)}`]))]
    await openInbox(inbox, {
      filters,
      handle: (packet) => this.#serial(() => this.#onFact(packet)),
      onUnhandled: (err, packet) => {
        if (this.#stopping.signal.aborted) this.#log.info({ topic: packet.topic }, 'stopped before deciding a fact; it stays unacknowledged until the next connect')
        else this.#log.error({ err, topic: packet.topic }, 'could not handle a fact; it stays unacknowledged until the next connect')
      }
    })
    this.#schedule()
    this.#log.info({ filters }, 'responder started')
  }

  /** Disconnects; the broker keeps the session and queues facts until the next `start()`. */
  async stop (): Promise<void> {
    // A fact still waiting for evidence is left unacknowledged: the broker sends it again.
    this.#stopping.abort()
    clearTimeout(this.#timer)
    const { inbox, outbox, mirror } = { inbox: this.#inbox, outbox: this.#outbox, mirror: this.#mirror }
    this.#inbox = null
    this.#outbox = null
    await inbox?.endAsync()
    await mirror?.stop()
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

  get #seen (): Mirror {
    if (!this.#mirror) throw new Error(`responder ${this.member.name} is not started`)
    return this.#mirror
  }

  #onChange (mirror: Mirror, change: MirrorChange): void {
    this.#gaveUp.delete(change.kind === 'presence' ? 'presence' : change.subject)
    this.#serial(async () => {
      // A change queued before a stop (or a restart's new mirror) is no longer this responder's.
      if (this.#mirror !== mirror || !this.#outbox) return
      await this.#handle({ kind: 'changed', change, seen: mirror })
    }).catch((err: unknown) => this.#log.error({ err, topic: change.topic }, 'could not handle a mirror change'))
  }

  #onDeadLetter (payload: Buffer): void {
    const refusal = claimRefusalFromDeadLetter(payload)
    if (!refusal || !refusal.claim || refusal.claim.by !== this.member.name) {
      this.#log.info({ letter: payload.toString(), refusedClear: refusal?.claim === null }, 'the broker refused a publish')
      return
    }
    const { factId } = refusal.claim
    this.#serial(() => this.#handle({ kind: 'refused', factId, why: `${refusal.code}: ${refusal.message}` })).catch((err: unknown) => this.#log.error({ err }, 'could not handle a refused claim'))
  }

  async #onFact (packet: IPublishPacket): Promise<void> {
    let fact: Fact
    try {
      const checked = checkPublish({ topic: packet.topic, payload: packet.payload, retain: false })
      if (checked.kind !== 'fact') return
      fact = checked.fact
    } catch (err) {
      if (!(err instanceof HomefactsError)) throw err
      // Bad input is logged and acknowledged: sending it again would not make it valid.
      this.#log.warn({ topic: packet.topic, code: err.code, err: err.message, issues: err.issues }, 'ignoring an invalid message')
      return
    }
    await this.#awaitEvidence(fact)
    const decision = await this.#handle({ kind: 'fact', fact, seen: this.#seen })
    if (!decision.ignored) await this.#opts.beforeAck?.(fact)
  }

  /**
   * Waits, within `evidenceTimeoutMs`, until the mirror holds what a decision on the fact needs.
   * A subject (or the presence) that already timed out is not waited for again until the mirror
   * hears from it, so a backlog of facts on a silent thing defers at once instead of one bound each.
   */
  async #awaitEvidence (fact: Fact): Promise<void> {
    const mirror = this.#seen
    const missing = (): string | null => missingEvidence(this.#state, fact, mirror)
    const key = (reason: string): string => PRESENCE_REASONS.has(reason) ? 'presence' : fact.subject
    const first = missing()
    if (first === null || this.#state.handled.includes(fact.id) || !this.member.respondsTo.includes(fact.type) || this.#gaveUp.has(key(first))) return
    const signal = this.#stopping.signal
    const got = await mirror.waitFor(() => missing() === null ? true : undefined, { timeoutMs: this.#opts.household.evidenceTimeoutMs, signal })
    if (signal.aborted) throw new Error(`responder ${this.member.name} stopped while waiting for evidence`)
    const still = got ? null : missing()
    if (still !== null) this.#gaveUp.add(key(still))
  }

  async #handle (input: Input): Promise<Decision> {
    const decision = decide(this.#state, input, Date.now())
    if (decision.ignored) this.#log.debug({ kind: input.kind, ignored: decision.ignored }, 'nothing to decide')
    await this.#apply(decision)
    this.#schedule()
    return decision
  }

  /** Publishes what `decide()` asked for, then adopts its state (so a failed publish is retried). */
  async #apply (decision: Decision): Promise<void> {
    const refused: { factId: string, why: string }[] = []
    // Sent together, in decide()'s order, and awaited together: a broker delivers one
    // connection's publishes in the order they came [MQTT-4.6.0-5], with no round trip between them.
    await Promise.all(decision.publish.map(async (out) => {
      if (parseTopic(out.topic)?.kind === 'claim') {
        const outcome = await publishClaim(this.#out, out)
        if (outcome.status === 'refused') {
          const why = `PUBACK 0x${outcome.reasonCode.toString(16)}: ${outcome.reason}`
          if (out.payload === '') this.#log.info({ topic: out.topic, why }, 'the broker refused to clear my claim; leaving it to the broker')
          else refused.push({ factId: (JSON.parse(out.payload) as { factId: string }).factId, why })
          return
        }
      } else {
        await this.#out.publishAsync(out.topic, out.payload, { qos: out.qos, retain: out.retain })
      }
      if (!this.#log.isLevelEnabled('info')) return
      if (out.topic.endsWith('/fact/decided')) this.#log.info({ decided: (JSON.parse(out.payload) as { data: unknown }).data }, 'decided')
      else this.#log.info({ topic: out.topic, retain: out.retain }, 'published')
    }))
    this.#state = decision.state
    // A refused claim is a lost race: decided once, never retried.
    for (const r of refused) await this.#apply(decide(this.#state, { kind: 'refused', ...r }, Date.now()))
  }

  #schedule (): void {
    clearTimeout(this.#timer)
    if (!this.#inbox) return
    const next = nextDue(this.#state)
    if (!next) return
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next.at - Date.now()))
    this.#timer = setTimeout(() => {
      if (!this.#inbox) return
      this.#serial(() => this.#handle({ kind: 'tick', seen: this.#seen })).catch((err: unknown) => {
        this.#log.error({ err }, 'escalation check failed; retrying in 1 s')
        this.#timer = setTimeout(() => this.#schedule(), 1000)
      })
    }, delay)
  }
}
