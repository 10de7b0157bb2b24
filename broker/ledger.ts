import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { HeapSpaceInfo } from 'node:v8'
import type { Worker } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { Codes, HomefactsError, topicMatches, type Fact } from '#contract'
import { rowWriter } from './ledger-rows.js'
import { workerWithSemiSpace } from './worker-heap.ts'

/** One fact as the ledger keeps it, with its global offset. */
export interface LedgerEntry {
  offset: number
  topic: string
  /** When the broker accepted it (ISO time: when its batch went to be written). */
  receivedAt: string
  clientId: string | null
  fact: Fact
}

export interface LedgerQuery {
  /** Entries with an offset greater than this (default 0: from the start). */
  after?: number
  /** At most this many (default 100, at most 10,000). */
  limit?: number
  /** An MQTT topic filter; `+` and `#` work as on a subscription. */
  topic?: string
}

interface Row { offset: number, topic: string, received_at: string, client_id: string | null, payload: string }

/**
 * An append waiting for its row; `outcome` is set when the writer answers (or fails). Its
 * payload is let go once it is sent to the writer, unless someone listens for `append`: a
 * fact held for the few milliseconds of a commit outlives a young-generation GC, and copying
 * it there costs more than the rest of the append on this thread.
 */
interface QueuedAppend { id: string, topic: string, payload: string | null, clientId: string | null, receivedAt: string, done: AppendCallback, outcome?: number | Error }
/** The writer's answer to one batch: an offset per fact, or 0 and its error message. */
interface WriterReply { offsets: Float64Array, errors: (string | undefined)[] | null }

/** Called once the fact's row is committed (with its offset), or with the error that kept it out. */
export type AppendCallback = (err: Error | null, offset?: number) => void

export const MAX_LIMIT = 10_000

const WRITER = new URL('./ledger-writer.js', import.meta.url)
/** The largest batch written on the broker's thread once the writer thread is ready. */
export const LOCAL_BATCH = 8
/**
 * The largest batch sent to the writer thread at once; a burst goes in several, one after the
 * other. A batch is one string copied into the writer's heap: a burst's backlog of thousands of
 * facts sent whole went to its large-object space and held megabytes more at the peak.
 */
export const MAX_BATCH = 256
/**
 * The writer thread's semi-spaces, in MB: two of them are its young generation. What it
 * allocates lives for one batch. With the broker thread's bound (the shebang's 8 MB) its
 * young generation grew to 14 MB under a burst; with this one it stays at 2 (docs/footprint.md).
 */
export const WRITER_SEMI_SPACE_MB = 1
/**
 * Automatic checkpoints on this thread's connection: SQLite's default (1,000 pages) while the
 * writer thread, which checkpoints every 200 ms, is not running; with it, a backstop only.
 */
const AUTOCHECKPOINT_PAGES = 1000
const BACKSTOP_AUTOCHECKPOINT_PAGES = 4000

/**
 * The fact ledger: an append-only SQLite table (WAL), one global offset per fact.
 *
 * Appends are written in batches, one batch at a time, each committed in one transaction (a
 * group commit): those of one turn of the event loop, or all those queued while the batch before
 * was written. Each `done` is called, in arrival order, once its row is committed. A small batch
 * (at most `LOCAL_BATCH` facts: a household's trickle, or a steady stream of hundreds a second)
 * is written here, on this thread's connection: an insert and a commit with no fsync take tens of
 * microseconds, where a hand-off to a thread and back took two wake-ups of threads that had to be
 * scheduled (docs/footprint.md, "Tail latency"). A larger one, a burst, goes to the writer thread
 * (`ledger-writer.js`, its own connection), so it does not hold the event loop for milliseconds;
 * that thread also runs the WAL checkpoints, which fsync. It starts after the first batch, not at
 * open (it costs RSS); until it is ready every batch is written here. Emits `writer-ready` when
 * it is. Reads are synchronous, on this thread's connection (WAL lets it read while the writer
 * writes), and in the process that writes they end at the last append called back, so a reader
 * sees a fact exactly when its `append` event is emitted. Emits `append` with each new
 * `LedgerEntry`.
 */
export class Ledger extends EventEmitter<{ append: [LedgerEntry], 'writer-ready': [] }> {
  readonly path: string
  readonly #onError: (err: Error) => void
  #db: Database.Database | null = null
  #accepting = false
  #closing: Promise<void> | null = null
  #writer: Worker | null = null
  /** Answers to `writerHeapSpaces()`, in the order asked (the writer answers in order). */
  #heapAsked: ((spaces: HeapSpaceInfo[] | null) => void)[] = []
  /** Whether `#writer` has prepared its statements; until then batches are written here. */
  #writerReady = false
  /** The row writes on this thread's connection, made at the first batch written here. */
  #localWrite: ((batch: string) => WriterReply) | null = null
  /** Appends not yet called back, in arrival order, from `#head` on. */
  #pending: QueuedAppend[] = []
  #head = 0
  /** Appends not yet sent to the writer. */
  #unsent: QueuedAppend[] = []
  /** The batch the writer is writing: one at a time, so the next one grows meanwhile. */
  #inFlight: QueuedAppend[] | null = null
  #posting: NodeJS.Immediate | null = null
  #idle: (() => void)[] = []
  #draining = false
  /** The highest offset announced (called back); reads stop there once this ledger writes. */
  #announced = 0
  #writes = false

  /** `onError` hears of a writer thread that died; its pending appends have failed. */
  constructor (path: string, onError: (err: Error) => void = () => {}) {
    super()
    this.path = path
    this.#onError = onError
  }

  open (): void {
    if (this.#db) return
    // The writer thread needs the file: an in-memory database would be its own.
    if (this.path === ':memory:') throw new Error('the ledger needs a file')
    mkdirSync(dirname(this.path), { recursive: true })
    const db = new Database(this.path)
    db.pragma('journal_mode = WAL')
    db.exec(`CREATE TABLE IF NOT EXISTS facts (
      offset INTEGER PRIMARY KEY, -- rowid: max + 1, so offsets have no gaps (rows are never deleted)
      id TEXT NOT NULL UNIQUE, -- the fact's; the rest of the envelope is in the payload
      topic TEXT NOT NULL,
      client_id TEXT,
      received_at TEXT NOT NULL,
      payload TEXT NOT NULL
    );
    -- No topic index: it cost every insert more than it saved reads, which scan from \`after\`.
    DROP INDEX IF EXISTS facts_topic;
    -- Named read positions kept with the facts (issue 31: the estate's last offset the stream acknowledged).
    CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, offset INTEGER NOT NULL);`)
    db.function('mqtt_match', { deterministic: true }, (filter: unknown, topic: unknown) => topicMatches(String(filter), String(topic)) ? 1 : 0)
    this.#db = db
    this.#accepting = true
    this.#writes = false
    this.#announced = this.#maxOffset()
  }

  /** Waits for the pending appends to be called back, then stops the writer and closes. */
  async close (): Promise<void> {
    this.#closing ??= this.#close()
    await this.#closing
  }

  async #close (): Promise<void> {
    try {
      this.#accepting = false
      this.#post()
      if (this.#head < this.#pending.length) await new Promise<void>((resolve) => this.#idle.push(resolve))
      const writer = this.#writer
      this.#writer = null
      if (writer) {
        writer.ref()
        writer.postMessage(null)
        await new Promise((resolve) => writer.once('exit', resolve))
      }
      this.#db?.close()
      this.#db = null
      this.#localWrite = null
    } finally {
      this.#closing = null
    }
  }

  /**
   * Appends a fact with the other appends of its batch, in one transaction, and calls back once
   * its row is committed, with its offset. A fact whose id is already in
   * the ledger (a QoS 1 redelivery) is not stored twice: its existing offset is passed. A
   * different fact under an id already used fails with `HF_DUPLICATE_ID`. Offsets,
   * callbacks and `append` events follow arrival order. If the batch cannot be written whole,
   * each fact is written on its own, so every fact gets its own outcome. `payload` is the fact
   * as received (what is stored); of `fact`, its parsed form, only the id is kept.
   */
  appendDeferred (topic: string, fact: Fact, payload: string, clientId: string | null, done: AppendCallback): void {
    const e: QueuedAppend = { id: fact.id, topic, payload, clientId, receivedAt: '', done }
    this.#pending.push(e)
    if (!this.#accepting) {
      e.outcome = new Error(this.#db ? 'the ledger is closing' : 'the ledger is not open')
      return this.#drain()
    }
    this.#writes = true
    this.#unsent.push(e)
    // Fewer, larger batches cost this thread less per fact than one a turn.
    if (!this.#inFlight) this.#posting ??= setImmediate(() => this.#post())
  }

  /** Sends the appends queued so far to the writer as one batch (its format: `ledger-writer.js`). */
  #post (): void {
    if (this.#posting) clearImmediate(this.#posting)
    this.#posting = null
    if (this.#unsent.length === 0 || this.#inFlight) return
    const batch = this.#unsent.splice(0, MAX_BATCH)
    const writer = this.#writer
    const receivedAt = new Date().toISOString()
    // One string: cloning it costs a copy, cloning a string per field costs far more. Joined
    // once, so no chain of partial strings is built and then flattened.
    const fields: string[] = new Array(1 + batch.length * 4)
    fields[0] = receivedAt
    const keep = this.listenerCount('append') > 0
    for (let k = 0, i = 1; k < batch.length; k++, i += 4) {
      const e = batch[k]!
      e.receivedAt = receivedAt
      fields[i] = e.id
      fields[i + 1] = e.topic
      fields[i + 2] = e.clientId === null ? '' : '=' + e.clientId
      fields[i + 3] = e.payload!
      if (!keep) e.payload = null
    }
    this.#inFlight = batch
    if (!writer || !this.#writerReady || batch.length <= LOCAL_BATCH) {
      this.#settle(this.#writeHere(fields.join('\0')))
      // Started once these appends are called back, so their acknowledgements go out first.
      if (!writer) setImmediate(() => { if (this.#accepting && !this.#writer) this.#startWriter() })
      return
    }
    writer.ref()
    writer.postMessage(fields.join('\0'))
  }

  /** Writes a batch on this thread's connection, as the writer thread would. */
  #writeHere (batch: string): WriterReply {
    if (!this.#localWrite) {
      // As on the writer's connection (ledger-writer.js): a commit survives a process crash.
      this.#db!.pragma('synchronous = NORMAL')
      this.#localWrite = rowWriter(this.#db!)
    }
    return this.#localWrite(batch)
  }

  /**
   * The writer thread's V8 heap spaces (`v8.getHeapSpaceStatistics()` there), or null when it
   * is not running: what the thread holds, for diagnostics.
   */
  writerHeapSpaces (): Promise<HeapSpaceInfo[] | null> {
    const writer = this.#writer
    if (!writer) return Promise.resolve(null)
    return new Promise((resolve) => {
      this.#heapAsked.push(resolve)
      writer.postMessage('heap')
    })
  }

  #startWriter (): Worker {
    const writer = workerWithSemiSpace(WRITER, { workerData: { path: this.path } }, WRITER_SEMI_SPACE_MB)
    // Held open only while a batch is in flight (#post, #settle).
    writer.unref()
    this.#writerReady = false
    let failure: Error | null = null
    writer.on('message', (reply: WriterReply | 'ready' | { heap: HeapSpaceInfo[] }) => {
      if (this.#writer !== writer) return
      if (reply === 'ready') return this.#ready()
      if ('heap' in reply) return this.#heapAsked.shift()?.(reply.heap)
      this.#settle(reply)
    })
    writer.on('error', (err) => { failure = err })
    writer.on('exit', (code) => {
      if (this.#writer !== writer) return
      this.#writer = null
      this.#writerReady = false
      for (const answer of this.#heapAsked.splice(0)) answer(null)
      if (this.#accepting) this.#db?.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`)
      const err = new Error(`the ledger writer stopped: ${failure?.message ?? `exit code ${code}`}`, { cause: failure })
      this.#onError(err)
      this.#fail(err)
    })
    this.#writer = writer
    return writer
  }

  #ready (): void {
    this.#writerReady = true
    this.#db?.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`)
    this.emit('writer-ready')
  }

  #settle ({ offsets, errors }: WriterReply): void {
    const batch = this.#inFlight!
    this.#inFlight = null
    this.#writer?.unref()
    for (let k = 0; k < batch.length; k++) {
      const offset = offsets[k]!
      batch[k]!.outcome = offset > 0
        ? offset
        : offset === -1
          ? new HomefactsError(Codes.DUPLICATE_ID, `fact id ${batch[k]!.id} is already in the ledger for a different fact`, [{ path: 'id', message: 'already used by another fact' }])
          : new Error(errors?.[k] ?? 'the ledger writer gave no offset')
    }
    this.#post()
    this.#drain()
  }

  /** Moves the announced offset to `offset`, the row of `q`, and emits `append` for it. */
  #announce (q: QueuedAppend, offset: number): void {
    const after = this.#announced
    this.#announced = offset
    if (this.listenerCount('append') === 0) return
    // Its payload was let go when no one listened yet: read its row back (with any before it not yet announced).
    if (q.payload === null) {
      for (let from = after, page = this.#rows(from, offset, MAX_LIMIT); page.length > 0; from = page.at(-1)!.offset, page = this.#rows(from, offset, MAX_LIMIT)) {
        for (const e of page) this.emit('append', e)
      }
      return
    }
    this.emit('append', { offset, topic: q.topic, receivedAt: q.receivedAt, clientId: q.clientId, fact: JSON.parse(q.payload) as Fact })
  }

  /** A dead writer: every pending append fails (the next append starts a new writer). */
  #fail (err: Error): void {
    for (const e of [...this.#inFlight ?? [], ...this.#unsent]) e.outcome = err
    this.#inFlight = null
    this.#unsent = []
    // Rows it committed without answering are in the ledger: announce them, in order.
    if (this.#db && this.listenerCount('append') > 0) {
      for (const e of this.#rows(this.#announced, Number.MAX_SAFE_INTEGER, MAX_LIMIT)) this.emit('append', e)
    }
    if (this.#db) this.#announced = this.#maxOffset()
    this.#drain()
  }

  /** Calls back the settled appends and the steps behind them, in arrival order. */
  #drain (): void {
    // A callback that appends to a closed ledger lands here again: the loop below takes it.
    if (this.#draining) return
    this.#draining = true
    const pending = this.#pending
    let thrown: unknown = null
    while (this.#head < pending.length) {
      const q = pending[this.#head]!
      const r = q.outcome
      if (r === undefined) break
      // Let it go now: under a steady stream the array is compacted only every 1,024 entries, and
      // until then it would keep each called-back append alive, with the publish its callback holds.
      pending[this.#head++] = undefined as unknown as QueuedAppend
      try {
        if (r instanceof Error) {
          q.done(r)
          continue
        }
        if (r > this.#announced) this.#announce(q, r)
        q.done(null, r)
      } catch (err) {
        // One failing callback must not strand the others; the first failure is rethrown after.
        thrown ??= err
      }
    }
    this.#draining = false
    if (this.#head === pending.length) {
      this.#pending = []
      this.#head = 0
      for (const resolve of this.#idle.splice(0)) resolve()
    } else if (this.#head > 1024) {
      this.#pending = pending.slice(this.#head)
      this.#head = 0
    }
    if (thrown !== null) throw thrown
  }

  #open (): Database.Database {
    if (!this.#db) throw new Error('ledger is not open')
    return this.#db
  }

  #maxOffset (): number {
    return this.#open().prepare<[], { o: number | null }>('SELECT MAX(offset) AS o FROM facts').get()?.o ?? 0
  }

  #rows (after: number, upTo: number, limit: number, topic?: string): LedgerEntry[] {
    const db = this.#open()
    const cols = 'offset, topic, received_at, client_id, payload'
    let rows: Row[]
    if (topic === undefined) {
      rows = db.prepare<[number, number, number], Row>(`SELECT ${cols} FROM facts WHERE offset > ? AND offset <= ? ORDER BY offset LIMIT ?`).all(after, upTo, limit)
    } else if (!/[+#]/.test(topic)) {
      rows = db.prepare<[string, number, number, number], Row>(`SELECT ${cols} FROM facts WHERE topic = ? AND offset > ? AND offset <= ? ORDER BY offset LIMIT ?`).all(topic, after, upTo, limit)
    } else {
      rows = db.prepare<[string, number, number, number], Row>(`SELECT ${cols} FROM facts WHERE mqtt_match(?, topic) AND offset > ? AND offset <= ? ORDER BY offset LIMIT ?`).all(topic, after, upTo, limit)
    }
    return rows.map(toEntry)
  }

  /** Entries after an offset, in offset order, optionally filtered by topic. */
  read (q: LedgerQuery = {}): LedgerEntry[] {
    // Rows committed but not yet called back would otherwise show twice to a follow stream
    // (here, then as an `append` event).
    const upTo = this.#writes ? this.#announced : Number.MAX_SAFE_INTEGER
    return this.#rows(q.after ?? 0, upTo, Math.min(q.limit ?? 100, MAX_LIMIT), q.topic)
  }

  /** The entry of a fact by its id. */
  byId (id: string): LedgerEntry | undefined {
    const r = this.#open().prepare<[string], Row>('SELECT offset, topic, received_at, client_id, payload FROM facts WHERE id = ?').get(id)
    return r ? toEntry(r) : undefined
  }

  /**
   * A fact's story (issue 12, the trace view): every later fact caused by it, directly or
   * through others (`causationid`), in offset order, and the first later fact on its subject
   * with a higher seq (the one that resolved it). One pass from the fact's offset: a cause is
   * always written before its effects. At most `scan` later entries are read.
   */
  story (id: string, scan = 50_000): { fact: LedgerEntry, steps: LedgerEntry[], resolution: LedgerEntry | null } | undefined {
    const root = this.byId(id)
    if (!root) return undefined
    const db = this.#open()
    const ids = new Set([id])
    const steps: LedgerEntry[] = []
    const caused = db.prepare<[number, number], Row & { causationid: string, id: string }>(`SELECT offset, topic, received_at, client_id, payload, id, json_extract(payload, '$.causationid') AS causationid
      FROM facts WHERE offset > ? AND offset <= ? AND json_extract(payload, '$.causationid') IS NOT NULL ORDER BY offset`)
    for (const r of caused.iterate(root.offset, root.offset + scan)) {
      if (!ids.has(r.causationid)) continue
      ids.add(r.id)
      steps.push(toEntry(r))
    }
    const next = db.prepare<[number, number, string, number], Row>(`SELECT offset, topic, received_at, client_id, payload FROM facts
      WHERE offset > ? AND offset <= ? AND json_extract(payload, '$.subject') = ? AND json_extract(payload, '$.seq') > ? ORDER BY offset LIMIT 1`)
      .get(root.offset, root.offset + scan, root.fact.subject, root.fact.seq)
    return { fact: root, steps, resolution: next ? toEntry(next) : null }
  }

  /** The offset kept under `name` (0 when none is). */
  cursor (name: string): number {
    return this.#open().prepare<[string], { offset: number }>('SELECT offset FROM cursors WHERE name = ?').get(name)?.offset ?? 0
  }

  /** Keeps `offset` under `name`, in the ledger's own database. */
  setCursor (name: string, offset: number): void {
    this.#open().prepare('INSERT INTO cursors (name, offset) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET offset = excluded.offset').run(name, offset)
  }

  /** True between `open()` and `close()`. */
  get isOpen (): boolean {
    return this.#db !== null
  }

  /** The highest offset so far (0 when empty). */
  lastOffset (): number {
    return this.#writes ? this.#announced : this.#maxOffset()
  }
}

function toEntry (r: Row): LedgerEntry {
  return { offset: r.offset, topic: r.topic, receivedAt: r.received_at, clientId: r.client_id, fact: JSON.parse(r.payload) as Fact }
}
