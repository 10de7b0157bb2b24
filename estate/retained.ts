import type { Logger } from 'pino'
import type { MqttClient } from 'mqtt'
import type { KV } from '@nats-io/kv'
import { Claim, parseTopic } from '#contract'
import type { Link } from './link.ts'
import { byHere, keyOfTopic, matchesAny, mirroredTopic, retainedBucketOf, topicOfKey } from './names.ts'

/** The retained topics of a house: what it shares besides its facts. */
export const RETAINED_FILTERS = ['home/+/+/state', 'home/+/+/claim', 'home/+/+/availability', 'household/+/presence'] as const
const RETRY_MS = 1000

/**
 * This house's retained states, claims, availability and presence, as its broker holds them, into
 * its bucket of the estate: one key per topic, the last value wins, as on the broker.
 * While the link is down the last value of each topic waits here, and goes once it is back.
 */
export class RetainedOut {
  readonly #share: readonly string[]
  readonly #log: Logger
  #kv: KV | null = null
  /** The values not yet in the bucket, oldest first (a newer value moves its topic to the end). */
  #pending = new Map<string, string>()
  #flushing: Promise<void> | null = null
  #retry: NodeJS.Timeout | undefined

  constructor (opts: { share: readonly string[], log: Logger }) {
    this.#share = opts.share
    this.#log = opts.log
  }

  /** Subscribes on `client` (its messages come again on every reconnect: the broker's retained values). */
  async watch (client: MqttClient): Promise<void> {
    client.on('message', (topic, payload) => {
      const kind = parseTopic(topic)?.kind
      if (kind !== 'state' && kind !== 'claim' && kind !== 'availability' && kind !== 'presence') return
      if (!matchesAny(this.#share, topic)) return
      const key = keyOfTopic(topic)
      this.#pending.delete(key)
      this.#pending.set(key, payload.toString('utf8'))
      this.#flush()
    })
    await client.subscribeAsync([...RETAINED_FILTERS], { qos: 1 })
  }

  link (kv: KV): void {
    this.#kv = kv
    this.#flush()
  }

  unlink (): void {
    this.#kv = null
    clearTimeout(this.#retry)
  }

  async stop (): Promise<void> {
    this.unlink()
    await this.#flushing
  }

  #flush (): void {
    if (this.#flushing || !this.#kv) return
    this.#flushing = this.#putAll().finally(() => { this.#flushing = null })
  }

  async #putAll (): Promise<void> {
    for (let next = this.#pending.entries().next(); !next.done && this.#kv; next = this.#pending.entries().next()) {
      const [key, value] = next.value
      try {
        await this.#kv.put(key, value)
      } catch (err) {
        this.#log.warn({ err: (err as Error).message, key }, 'estate: a retained value did not reach the bucket; trying again')
        this.#retry = setTimeout(() => this.#flush(), RETRY_MS)
        return
      }
      // Sent as it was: a newer value that came meanwhile stays pending.
      if (this.#pending.get(key) === value) this.#pending.delete(key)
    }
  }
}

/**
 * Another house's retained values, from its bucket, into this house's broker under
 * `sites/<site>/...`, retained. A claim names its holder as this house does: its own
 * members by name, others as `<site>/<member>`.
 */
export class RetainedIn {
  readonly #opts: { site: string, from: string, filters: readonly string[], client: MqttClient, log: Logger }
  #stop = new AbortController()
  #running: Promise<void> | null = null
  #revision = 0
  #current: (() => void) | null = null

  constructor (opts: { site: string, from: string, filters: readonly string[], client: MqttClient, log: Logger }) {
    this.#opts = opts
  }

  start (link: Link): void {
    this.#stop = new AbortController()
    this.#running = this.#run(link)
  }

  /** Watches again now, from the last revision seen (after NATS reconnected). */
  kick (): void {
    this.#current?.()
  }

  async stop (): Promise<void> {
    this.#stop.abort()
    await this.#running
  }

  async #run (link: Link): Promise<void> {
    const { from, log } = this.#opts
    while (!this.#stop.signal.aborted) {
      try {
        const kv = await link.kvm.open(retainedBucketOf(from))
        await kv.status()
        const watch = await kv.watch({ key: '>', ...(this.#revision > 0 ? { resumeFromRevision: this.#revision + 1 } : {}) })
        const stop = (): void => { watch.stop() }
        this.#current = stop
        this.#stop.signal.addEventListener('abort', stop, { once: true })
        if (this.#stop.signal.aborted) stop()
        try {
          for await (const e of watch) {
            await this.#apply(e.key, e.operation === 'PUT' ? e.string() : '')
            this.#revision = e.revision
          }
        } finally {
          this.#current = null
          this.#stop.signal.removeEventListener('abort', stop)
        }
      } catch (err) {
        if (this.#stop.signal.aborted) break
        if (!/not found/i.test(String(err))) log.warn({ err: (err as Error).message }, 'estate: watching a followed house\'s retained values failed; watching again')
      }
      if (!this.#stop.signal.aborted) await new Promise((resolve) => setTimeout(resolve, RETRY_MS))
    }
  }

  async #apply (key: string, value: string): Promise<void> {
    const { site, from, filters, client, log } = this.#opts
    const topic = topicOfKey(key)
    const kind = parseTopic(topic)?.kind
    if (!kind || !matchesAny(filters, topic)) return
    let payload = value
    if (kind === 'claim' && value !== '') {
      const claim = Claim.safeParse(safeJson(value))
      if (!claim.success) return log.warn({ topic }, 'estate: a followed claim is unreadable; skipped')
      payload = JSON.stringify({ ...claim.data, by: byHere(from, site, claim.data.by) })
    }
    // Only a claim is cleared by an empty value; a state or presence is never unsaid.
    if (payload === '' && kind !== 'claim') return
    await client.publishAsync(mirroredTopic(from, topic), payload, { qos: 1, retain: true }).catch((err: unknown) => {
      log.warn({ err: (err as Error).message, topic: mirroredTopic(from, topic) }, 'estate: this house\'s broker refused a followed retained value')
    })
  }
}

function safeJson (s: string): unknown {
  try {
    return JSON.parse(s)
  } catch {
    return null
  }
}
