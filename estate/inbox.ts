import type { Logger } from 'pino'
import type { MqttClient } from 'mqtt'
import { AckPolicy, DeliverPolicy, type JsMsg } from '@nats-io/jetstream'
import type { Fact } from '#contract'
import type { Ledger } from '../broker/index.ts'
import type { Link } from './link.ts'
import { consumerOf, matchesAny, mirroredTopic, streamOf, topicOfFactSubject } from './names.ts'

/** Publishes to the broker not yet acknowledged, at most. */
const WINDOW = 256
/** How long one pull waits on the server; its heartbeats are half of it. */
const PULL_EXPIRES_MS = 5000
/** How long to wait before reading a followed house's stream again after it failed (or does not exist yet). */
const RETRY_MS = 1000

/** One message of a followed house's stream, from the consumer or read directly by its sequence. */
interface StreamFact { seq: number, subject: string, data: Uint8Array, ack?: () => void }

export interface InboxOptions {
  /** This house. */
  site: string
  /** The house followed, and the filters over its topics. */
  from: string
  filters: readonly string[]
  /** The connection that publishes into this house's broker (as the `estate` user). */
  client: MqttClient
  ledger: Ledger
  log: Logger
}

/**
 * Brings the facts this house follows from another house into its own broker, as facts under
 * `sites/<site>/...`, through one durable consumer on that house's stream.
 *
 * - In stream order, which is that house's ledger order: the consumer acknowledges cumulatively
 *   (`AckPolicy.All`), and a message that comes after a gap (one delivered before a reconnect and
 *   not acknowledged) waits for the gap, read directly from the stream by its sequence.
 * - Each once: a fact already in this house's ledger (published, then killed before the ack) is
 *   not published again; nor is a sequence already published in this run.
 * - Each is published like any fact (QoS 1, checked by the contract, in the ledger), with its
 *   subject renamed to `sites/<site>/<subject>` so the retained-state check finds the mirrored
 *   state; its id, seq, time and data are the owning house's.
 */
export class Inbox {
  readonly #opts: InboxOptions
  #link: Link | null = null
  #stop = new AbortController()
  #running: Promise<void> | null = null
  /** The last sequence handed to the broker (in this run, or acknowledged before). */
  #applied = 0
  /** The first sequence whose publish failed since the last retry (it and what follows are read again). */
  #failedAt = Infinity
  /** Publishes in flight. */
  #inflight = new Set<Promise<void>>()
  /**
   * Acknowledgements, in stream order: each waits for its own fact and every one before it, since
   * one acknowledgement (`AckPolicy.All`) covers all before it. Rejected once a publish failed.
   */
  #acks: Promise<void> = Promise.resolve()
  #outstanding = 0
  /** Ends the pull in progress. */
  #current: (() => void) | null = null
  /** Facts published into the broker since start. */
  received = 0

  constructor (opts: InboxOptions) {
    this.#opts = opts
  }

  start (link: Link): void {
    this.#link = link
    this.#stop = new AbortController()
    this.#running = this.#run()
  }

  /**
   * Pulls again now: after NATS reconnected, a pull made before the outage would otherwise be
   * waited on until it expires (30 s) before the consumer delivers again.
   */
  kick (): void {
    this.#current?.()
  }

  async stop (): Promise<void> {
    this.#stop.abort()
    await this.#running
    this.#running = null
  }

  async #run (): Promise<void> {
    const { from, site, log } = this.#opts
    const stream = streamOf(from)
    const durable = consumerOf(site, from)
    let waiting = false
    while (!this.#stop.signal.aborted) {
      try {
        const { jsm, js } = this.#link!
        const info = await jsm.consumers.info(stream, durable).catch(async (err: unknown) => {
          if (!/not found/i.test(String(err))) throw err
          return await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.All, deliver_policy: DeliverPolicy.All, max_ack_pending: 10_000, ack_wait: 30e9 })
        })
        if (waiting) log.info('estate: following the facts of another house')
        waiting = false
        // A stream that lost its last writes (a power cut of a majority of the nodes, docs/estate.md)
        // can end below what the consumer delivered: its new facts would never come. Read it again
        // from the start; the facts already here are skipped by id.
        const last = (await jsm.streams.info(stream)).state.last_seq
        if (info.delivered.stream_seq > last) {
          log.warn({ delivered: info.delivered.stream_seq, last }, 'estate: the followed stream ends before what its consumer delivered (it lost writes); reading it again from the start')
          await jsm.consumers.delete(stream, durable)
          continue
        }
        // What the consumer acknowledged: a consumer made again (its stream lost and made again) starts over.
        this.#applied = info.ack_floor.stream_seq
        const consumer = await js.consumers.get(stream, durable)
        // A consumer or stream that is gone (the stream lost and made again) ends the loop, which makes the consumer again.
        // Pulls that expire after 5 s (not 30): a pull the cluster lost in an outage is made again that soon.
        const messages = await consumer.consume({ max_messages: 1000, expires: PULL_EXPIRES_MS, abort_on_missing_resource: true })
        const stop = (): void => { void messages.close() }
        this.#current = stop
        this.#stop.signal.addEventListener('abort', stop, { once: true })
        // Stopped while the consumer was being set up: no abort event is coming.
        if (this.#stop.signal.aborted) stop()
        try {
          for await (const m of messages) await this.#take(m)
        } finally {
          this.#current = null
          this.#stop.signal.removeEventListener('abort', stop)
        }
      } catch (err) {
        if (this.#stop.signal.aborted) break
        if (/stream not found/i.test(String(err))) {
          if (!waiting) log.info('estate: the followed house has shared nothing yet (no stream); waiting for it')
          waiting = true
        } else log.warn({ err: (err as Error).message }, 'estate: reading a followed house\'s stream failed; reading it again')
      }
      await this.#settle()
      if (!this.#stop.signal.aborted) await new Promise((resolve) => setTimeout(resolve, RETRY_MS))
    }
    await this.#settle()
  }

  /** Waits for the publishes in flight; a failed one is taken again, with everything after it. */
  async #settle (): Promise<void> {
    await Promise.allSettled([...this.#inflight])
    await this.#acks.catch(() => {})
    if (this.#failedAt !== Infinity) this.#applied = this.#failedAt - 1
    this.#failedAt = Infinity
    this.#acks = Promise.resolve()
    this.#outstanding = 0
  }

  async #take (m: JsMsg): Promise<void> {
    // Already handed to the broker: acknowledged once it (and all before it) is there.
    if (m.seq <= this.#applied) {
      this.#acks = this.#acks.then(() => m.ack())
      return
    }
    // A gap: earlier messages were delivered before a reconnect and never acknowledged.
    while (this.#applied + 1 < m.seq) {
      const seq = this.#applied + 1
      const missed = await this.#link!.jsm.streams.getMessage(streamOf(this.#opts.from), { seq }).catch((err: unknown) => {
        if (/no message found/i.test(String(err))) return null
        throw err
      })
      if (missed) await this.#apply({ seq, subject: missed.subject, data: missed.data })
      else {
        this.#opts.log.warn({ seq }, 'estate: a followed fact is gone from the stream (older than estate.maxAgeDays)')
        this.#applied = seq
      }
    }
    await this.#apply({ seq: m.seq, subject: m.subject, data: m.data, ack: () => m.ack() })
  }

  /** Publishes one fact into the broker (unless not followed, or already here); it is acknowledged once it and all before it are. */
  async #apply (f: StreamFact): Promise<void> {
    const { from, filters, client, ledger, log } = this.#opts
    this.#applied = f.seq
    const topic = topicOfFactSubject(from, f.subject)
    let fact: Fact | null = null
    try {
      fact = JSON.parse(Buffer.from(f.data).toString('utf8')) as Fact
    } catch {
      log.warn({ seq: f.seq, topic }, 'estate: a followed fact is not JSON; skipped')
    }
    let done: Promise<void> = Promise.resolve()
    if (fact && matchesAny(filters, topic) && !ledger.byId(fact.id)) {
      const id = fact.id
      const mirrored = { ...fact, subject: mirroredTopic(from, fact.subject) }
      done = client.publishAsync(mirroredTopic(from, topic), JSON.stringify(mirrored), { qos: 1 }).then(() => { this.received++ }, (err: unknown) => {
        // Refused by the contract (a type this house does not know): the broker dead-lettered it.
        const code = (err as { code?: unknown }).code
        if (typeof code === 'number' && code >= 0x80) return log.warn({ topic, id, reasonCode: code }, 'estate: this house\'s broker refused a followed fact; it is on the dead-letter topic')
        this.#failedAt = Math.min(this.#failedAt, f.seq)
        throw err
      })
      this.#inflight.add(done)
      void done.catch(() => {}).finally(() => this.#inflight.delete(done))
    }
    this.#outstanding++
    this.#acks = this.#acks.then(() => done).then(() => {
      this.#outstanding--
      f.ack?.()
    })
    if (this.#outstanding >= WINDOW) await this.#acks
  }
}
