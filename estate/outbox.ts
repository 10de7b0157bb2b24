import type { Logger } from 'pino'
import type { PubAck, StreamInfo } from '@nats-io/jetstream'
import type { Ledger, LedgerEntry } from '../broker/index.ts'
import type { Link } from './link.ts'
import { factSubjectOf, matchesAny, OUTBOX_CURSOR, streamOf } from './names.ts'

/** Ledger entries read, and published to the stream without waiting for each ack, at once. */
export const OUTBOX_WINDOW = 500
/** How often at most the acknowledged offset is written to the ledger's database while a burst goes out. */
const CURSOR_EVERY_MS = 200
/** The first wait after a failed window; doubled up to `MAX_BACKOFF_MS` while the stream keeps failing. */
const FIRST_BACKOFF_MS = 250
const MAX_BACKOFF_MS = 5000

export interface OutboxOptions {
  site: string
  /** Topic filters over this house's topics: the facts it shares. */
  share: readonly string[]
  ledger: Ledger
  log: Logger
  /** Makes the stream again when it is gone (estate/link.ts `ensureStream`). */
  ensureStream: (link: Link) => Promise<void>
}

/**
 * The ledger is the outbox: every fact this house shares goes to its stream, in ledger
 * order, with its id as `Nats-Msg-Id` (a resend is dropped by the stream, not stored twice).
 *
 * Facts go out a window at a time, each publish carrying `Nats-Expected-Last-Sequence`: the stream
 * stores a fact only right behind the one before it, so a fact lost in flight (a node killed, a
 * leader elected) makes every later one in its window fail too, and the window is sent again
 * from the first gap. The stream never holds this house's facts out of ledger order.
 *
 * The last offset the stream acknowledged is kept in the ledger's own database (`cursors`), and
 * checked against the stream's last message at every (re)link: a stream that holds more (acked,
 * the cursor not yet written) moves it on; a stream that holds less (acknowledged writes lost in a
 * power cut of a majority of the nodes, docs/estate.md) moves it back, and the facts are resent.
 */
export class Outbox {
  readonly #opts: OutboxOptions
  #link: Link | null = null
  #cursor = 0
  #lastSeq = 0
  #savedAt = 0
  #wake: (() => void) | null = null
  /** Ends any wait, a backoff's too. */
  #kick: (() => void) | null = null
  #running: Promise<void> | null = null
  #stop = new AbortController()
  /** Facts the stream acknowledged since start (for the bench and logs). */
  sent = 0

  constructor (opts: OutboxOptions) {
    this.#opts = opts
  }

  /** The last ledger offset the stream acknowledged. */
  get cursor (): number {
    return this.#cursor
  }

  /** The stream's state as the cluster reports it now (its leader, its last sequence; with `subjects`, how many facts on each subject). */
  streamInfo (opts: { subjects?: boolean } = {}): Promise<StreamInfo> {
    if (!this.#link) return Promise.reject(new Error('the estate is not linked'))
    return this.#link.jsm.streams.info(streamOf(this.#opts.site), opts.subjects ? { subjects_filter: '>' } : undefined)
  }

  /** Tries again now (NATS reconnected), not at the end of a backoff. */
  kick (): void {
    this.#kick?.()
  }

  start (link: Link): void {
    this.#link = link
    this.#stop = new AbortController()
    this.#cursor = this.#opts.ledger.cursor(OUTBOX_CURSOR)
    this.#opts.ledger.on('append', this.#onAppend)
    this.#running = this.#run()
  }

  async stop (): Promise<void> {
    this.#stop.abort()
    this.#opts.ledger.off('append', this.#onAppend)
    await this.#running
    this.#running = null
    if (this.#opts.ledger.isOpen) this.#save(true)
  }

  #onAppend = (): void => {
    this.#wake?.()
  }

  async #run (): Promise<void> {
    let backoff = FIRST_BACKOFF_MS
    let reconciled = false
    while (!this.#stop.signal.aborted) {
      try {
        if (!reconciled) {
          await this.#reconcile()
          reconciled = true
        }
        const entries = this.#opts.ledger.read({ after: this.#cursor, limit: OUTBOX_WINDOW })
        if (entries.length === 0) {
          await this.#idle()
          continue
        }
        await this.#send(entries)
        backoff = FIRST_BACKOFF_MS
      } catch (err) {
        if (this.#stop.signal.aborted) break
        this.#opts.log.warn({ err: (err as Error).message, cursor: this.#cursor, retryInMs: backoff }, 'estate outbox: the stream did not take a window; sending it again from the last acknowledged fact')
        reconciled = false
        await this.#sleep(backoff, false)
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
      }
    }
  }

  /** Publishes the shared facts among `entries`, each right behind the one before; moves the cursor past all of them once the stream has them. */
  async #send (entries: readonly LedgerEntry[]): Promise<void> {
    const { js } = this.#link!
    const acks: { entry: LedgerEntry, ack: Promise<PubAck> }[] = []
    let expected = this.#lastSeq
    for (const entry of entries) {
      // Only this house's own facts: another house's (`sites/...`) match no share filter.
      if (!matchesAny(this.#opts.share, entry.topic)) continue
      const ack = js.publish(factSubjectOf(this.#opts.site, entry.topic), JSON.stringify(entry.fact), { msgID: entry.fact.id, expect: { lastSequence: expected } })
      ack.catch(() => {})
      acks.push({ entry, ack })
      expected++
    }
    for (const { entry, ack } of acks) {
      const a = await ack
      this.#lastSeq = a.seq
      if (!a.duplicate) this.sent++
      this.#cursor = entry.offset
      this.#save(false)
    }
    this.#cursor = entries.at(-1)!.offset
    this.#save(false)
  }

  /** Where the stream really is: its last sequence, and the ledger offset of the fact it holds last. */
  async #reconcile (): Promise<void> {
    const { jsm } = this.#link!
    const stream = streamOf(this.#opts.site)
    const info = await jsm.streams.info(stream).catch(async (err: unknown) => {
      if (!/not found/i.test(String(err))) throw err
      this.#opts.log.warn({ stream }, 'estate outbox: the stream is gone; making it again')
      await this.#opts.ensureStream(this.#link!)
      return await jsm.streams.info(stream)
    })
    this.#lastSeq = info.state.last_seq
    if (info.state.last_seq === 0 || info.state.messages === 0) {
      if (this.#cursor > 0) this.#opts.log.warn({ cursor: this.#cursor }, 'estate outbox: the stream is empty though facts were acknowledged before; sending the shared facts again from the start of the ledger')
      this.#moveTo(0)
      return
    }
    const last = await jsm.streams.getMessage(stream, { seq: info.state.last_seq })
    const id = last?.header.get('Nats-Msg-Id')
    const entry = id ? this.#opts.ledger.byId(id) : undefined
    if (!entry) {
      this.#opts.log.error({ stream, lastSeq: info.state.last_seq, id }, 'estate outbox: the stream\'s last fact is not in this ledger; sending from the offset kept before')
      return
    }
    if (entry.offset > this.#cursor) {
      this.#opts.log.info({ from: this.#cursor, to: entry.offset }, 'estate outbox: the stream holds facts acknowledged after the cursor was written; moving it on')
      this.#moveTo(entry.offset)
    } else if (entry.offset < this.#cursor && this.#sharedBetween(entry.offset, this.#cursor)) {
      this.#opts.log.warn({ from: this.#cursor, to: entry.offset }, 'estate outbox: the stream lost acknowledged facts; sending them again from the ledger')
      this.#moveTo(entry.offset)
    }
  }

  /** True when the ledger holds a fact this house shares with an offset in (after, upTo]. */
  #sharedBetween (after: number, upTo: number): boolean {
    for (let from = after; from < upTo;) {
      const page = this.#opts.ledger.read({ after: from, limit: 10_000 })
      for (const e of page) {
        if (e.offset > upTo) return false
        if (matchesAny(this.#opts.share, e.topic)) return true
      }
      if (page.length === 0) return false
      from = page.at(-1)!.offset
    }
    return false
  }

  #moveTo (offset: number): void {
    this.#cursor = offset
    this.#save(true)
  }

  #save (now: boolean): void {
    const t = Date.now()
    if (!now && t - this.#savedAt < CURSOR_EVERY_MS) return
    this.#savedAt = t
    this.#opts.ledger.setCursor(OUTBOX_CURSOR, this.#cursor)
  }

  /** Waits for the next append (or a second, so a cursor write is never left behind). */
  #idle (): Promise<void> {
    this.#save(false)
    return this.#sleep(1000, true)
  }

  /** Waits `ms`, or less when stopped (or, with `onAppend`, when a fact is appended). */
  #sleep (ms: number, onAppend: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#stop.signal.removeEventListener('abort', done)
        if (this.#wake === done) this.#wake = null
        if (this.#kick === done) this.#kick = null
        resolve()
      }
      const timer = setTimeout(done, ms)
      if (onAppend) this.#wake = done
      this.#kick = done
      this.#stop.signal.addEventListener('abort', done)
      if (this.#stop.signal.aborted) done()
    })
  }
}
