import type { IClientSubscribeOptions, IPublishPacket, MqttClient } from 'mqtt'
import { Codes, HomefactsError, checkPublish, parseTopic, topicMatches, type Claim, type Presence, type ThingState } from '#contract'
import { evidence, type Evidence, type FactRef } from './evidence.ts'
import { holderOf, type Holder } from './claims.ts'
import type { MirrorView, Seen } from './seen.ts'

/** Everything a responder mirrors: the states and claims of this house's things and its estate's, and presence. */
export const MIRROR_FILTERS: readonly string[] = Object.freeze(['home/+/+/state', 'home/+/+/claim', 'sites/+/home/+/+/state', 'sites/+/home/+/+/claim', 'household/+/presence'])

/** One retained topic the mirror now holds differently. */
export type MirrorChange =
  | { kind: 'state', topic: string, subject: string, seen: Seen<ThingState> }
  | { kind: 'claim', topic: string, subject: string, seen: Seen<Claim> }
  | { kind: 'presence', topic: string, member: string, seen: Seen<Presence> }

export interface MirrorOptions {
  /**
   * The connection to subscribe on; the mirror never connects or ends it. A clean session is
   * best (`clean: true`): the retained values come again on every (re)connect. It may carry
   * other subscriptions and publishes (the mirror reads only messages that match its filters).
   */
  client: MqttClient
  /** Topic filters to mirror, each on `home/+/+/state`, `home/+/+/claim`, their `sites/+/` forms or `household/+/presence` (or narrower). */
  filters?: readonly string[]
  /** Called for each malformed retained value, e.g. to log it; it is recorded as `unreadable`. */
  onUnreadable?: (change: MirrorChange & { seen: { status: 'unreadable' } }) => void
}

/**
 * A live in-memory copy of retained states, claims and presence, fed by one long-lived
 * subscription (one SUBSCRIBE for all its filters, kept for the life of the connection; mqtt.js
 * sends it again after a reconnect). Reading it costs no round trip, and it never mistakes
 * silence for "nothing retained": a topic it has not heard from is `undefined`.
 *
 * A retained message that arrives in answer to the SUBSCRIBE after a live message on the same
 * topic is older than that message, and is ignored, so a slow replay cannot roll a topic back.
 */
export class Mirror implements MirrorView {
  readonly filters: readonly string[]
  #client: MqttClient
  #onUnreadable: MirrorOptions['onUnreadable']
  #states = new Map<string, Seen<ThingState>>()
  #claims = new Map<string, Seen<Claim>>()
  #presence = new Map<string, Seen<Presence>>()
  /** Topics with a live message since the last SUBSCRIBE (a later replayed one is older). */
  #live = new Set<string>()
  #listeners = new Set<(change: MirrorChange) => void>()
  #started = false

  constructor (opts: MirrorOptions) {
    this.#client = opts.client
    this.filters = Object.freeze([...(opts.filters ?? MIRROR_FILTERS)])
    this.#onUnreadable = opts.onUnreadable
  }

  /** Subscribes (QoS 1, retained messages sent on subscribe) and starts mirroring. */
  async start (): Promise<void> {
    if (this.#started) return
    this.#started = true
    this.#client.on('message', this.#onMessage)
    this.#client.on('connect', this.#onConnect)
    // Retain handling 0: send the retained messages on every SUBSCRIBE; retain-as-published off,
    // so a live message arrives with RETAIN cleared and a replayed one with it set [MQTT-3.3.1-9].
    const opts: IClientSubscribeOptions = this.#client.options.protocolVersion === 5 ? { qos: 1, rh: 0, rap: false } : { qos: 1 }
    const granted = await this.#client.subscribeAsync([...this.filters], opts)
    const refused = granted.filter((g) => g.qos >= 128).map((g) => g.topic)
    if (refused.length) {
      await this.stop()
      throw new HomefactsError(Codes.NOT_AUTHORIZED, `the broker refused the mirror's subscription to ${refused.join(', ')}`)
    }
  }

  /** Stops mirroring (and unsubscribes while the connection is up). What it holds stays readable. */
  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    this.#client.off('message', this.#onMessage)
    this.#client.off('connect', this.#onConnect)
    if (this.#client.connected && !this.#client.disconnecting) await this.#client.unsubscribeAsync([...this.filters]).catch(() => {})
  }

  state (subject: string): Seen<ThingState> | undefined {
    return this.#states.get(subject)
  }

  claim (subject: string): Seen<Claim> | undefined {
    return this.#claims.get(subject)
  }

  presence (member: string): Seen<Presence> | undefined {
    return this.#presence.get(member)
  }

  /** The evidence rule applied to what the mirror holds now for the fact's subject. */
  evidence (fact: FactRef & { subject: string }): Evidence {
    return evidence(fact, this.state(fact.subject))
  }

  /** Who holds the claim for a fact, as far as the mirror knows now. */
  holder (fact: { id: string, subject: string }): Holder {
    return holderOf(fact.id, this.claim(fact.subject))
  }

  /** Calls `listener` after each change; returns a function that removes it. */
  onChange (listener: (change: MirrorChange) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  /**
   * Resolves with `read()` as soon as it returns something other than `undefined` (checked now
   * and after every change), or with `undefined` once `timeoutMs` passed or `signal` aborted.
   */
  waitFor<T> (read: () => T | undefined, opts: { timeoutMs: number, signal?: AbortSignal }): Promise<T | undefined> {
    const first = read()
    if (first !== undefined || opts.signal?.aborted) return Promise.resolve(first)
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      let off = (): void => {}
      const finish = (value: T | undefined): void => {
        clearTimeout(timer)
        off()
        opts.signal?.removeEventListener('abort', abort)
        resolve(value)
      }
      const abort = (): void => finish(undefined)
      off = this.onChange(() => {
        const value = read()
        if (value !== undefined) finish(value)
      })
      timer = setTimeout(abort, opts.timeoutMs)
      opts.signal?.addEventListener('abort', abort, { once: true })
    })
  }

  /**
   * Waits, up to `timeoutMs`, for positive evidence about a fact: resolves with `open` or
   * `resolved` as soon as the mirror has it, or with the `unknown` evidence once the bound passed.
   * Never `open` by silence.
   */
  async waitForEvidence (fact: FactRef & { subject: string }, opts: { timeoutMs: number, signal?: AbortSignal }): Promise<Evidence> {
    const known = await this.waitFor(() => {
      const e = this.evidence(fact)
      return e.verdict === 'unknown' ? undefined : e
    }, opts)
    return known ?? this.evidence(fact)
  }

  #onConnect = (): void => {
    // mqtt.js subscribes again on reconnect, so the retained messages come again.
    this.#live.clear()
  }

  #onMessage = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
    if (!this.filters.some((f) => topicMatches(f, topic))) return
    const t = parseTopic(topic)
    if (!t || (t.kind !== 'state' && t.kind !== 'claim' && t.kind !== 'presence')) return
    const replayed = packet.retain
    if (replayed && this.#live.has(topic)) return
    if (!replayed) this.#live.add(topic)
    const seen = read(topic, payload, replayed)
    let change: MirrorChange
    switch (t.kind) {
      case 'state':
        this.#states.set(t.subject, seen as Seen<ThingState>)
        change = { kind: 'state', topic, subject: t.subject, seen: seen as Seen<ThingState> }
        break
      case 'claim':
        this.#claims.set(t.subject, seen as Seen<Claim>)
        change = { kind: 'claim', topic, subject: t.subject, seen: seen as Seen<Claim> }
        break
      case 'presence':
        this.#presence.set(t.member, seen as Seen<Presence>)
        change = { kind: 'presence', topic, member: t.member, seen: seen as Seen<Presence> }
        break
    }
    if (seen.status === 'unreadable') this.#onUnreadable?.(change as MirrorChange & { seen: { status: 'unreadable' } })
    for (const listener of [...this.#listeners]) listener(change)
  }
}

/** Parses one retained payload with the contract check: a value, cleared (empty) or unreadable. */
function read (topic: string, payload: Buffer, replayed: boolean): Seen<ThingState | Claim | Presence> {
  if (payload.length === 0) return { status: 'cleared', replayed }
  try {
    const checked = checkPublish({ topic, payload, retain: true })
    switch (checked.kind) {
      case 'state': return { status: 'value', value: checked.state, replayed }
      case 'claim': return checked.claim ? { status: 'value', value: checked.claim, replayed } : { status: 'cleared', replayed }
      case 'presence': return { status: 'value', value: checked.presence, replayed }
      default: throw new HomefactsError(Codes.TOPIC_SHAPE, `"${topic}" is not a state, claim or presence topic`)
    }
  } catch (err) {
    if (!(err instanceof HomefactsError)) throw err
    return { status: 'unreadable', replayed, error: { code: err.code, message: err.message, issues: err.issues }, payload: payload.toString('utf8') }
  }
}
