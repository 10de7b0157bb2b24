import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { Worker } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { topicMatches, type Fact } from '#contract'

/** One fact as the ledger keeps it, with its global offset. */
export interface LedgerEntry {
  offset: number
  topic: string
  /** When the broker accepted it (ISO time). */
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

/** An append waiting for the next group commit. */
interface QueuedAppend { topic: string, fact: Fact, payload: string, clientId: string | null, receivedAt: string, done: AppendCallback }
/** Work that must run after the appends queued before it, in the same order. */
interface QueuedStep { run: () => void }
type Outcome = { offset: number, added: boolean } | Error

/** Called once the fact's row is committed (with its offset), or with the error that kept it out. */
export type AppendCallback = (err: Error | null, offset?: number) => void

export const MAX_LIMIT = 10_000

/** How often the background connection checkpoints the WAL into the database file. */
const CHECKPOINT_EVERY_MS = 200

/**
 * The checkpointer: its own connection, in a worker thread, moving the WAL into the database
 * file. A checkpoint fsyncs (synchronous = NORMAL in WAL mode syncs at checkpoints), which blocks
 * for milliseconds; on the broker's event loop that stalled every fact in flight.
 */
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.module)
const db = new Database(workerData.path, { fileMustExist: true })
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)') } catch {}
}, workerData.everyMs)
parentPort.once('message', () => {
  clearInterval(timer)
  db.close()
  parentPort.close()
})
`

/**
 * The fact ledger: an append-only SQLite table (WAL), one global offset per fact.
 * `append` is synchronous. `appendDeferred` (the broker's path) groups the appends of one turn
 * of the event loop into one transaction and calls back only after it commits, so a fact is in
 * the ledger before the broker acknowledges it either way.
 * Emits `append` with each new `LedgerEntry`.
 */
export class Ledger extends EventEmitter<{ append: [LedgerEntry] }> {
  readonly path: string
  #db: Database.Database | null = null
  #insert!: Database.Statement<[string, string, string, string, string, string | null, string, string]>
  #byId!: Database.Statement<[string], { offset: number }>
  #insertAll!: (entries: QueuedAppend[]) => Outcome[]
  /** Appends and steps waiting for the group commit, in arrival order. */
  #queue: (QueuedAppend | QueuedStep)[] = []
  #flushing: NodeJS.Immediate | null = null
  #checkpointer: Worker | null = null

  constructor (path: string) {
    super()
    this.path = path
  }

  open (): void {
    if (this.#db) return
    if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true })
    const db = new Database(this.path)
    db.pragma('journal_mode = WAL')
    // NORMAL in WAL mode: a committed append survives a process crash (kill -9); only an OS
    // crash or power loss can lose the last transactions.
    db.pragma('synchronous = NORMAL')
    db.exec(`CREATE TABLE IF NOT EXISTS facts (
      offset INTEGER PRIMARY KEY, -- rowid: max + 1, so offsets have no gaps (rows are never deleted)
      id TEXT NOT NULL UNIQUE,
      topic TEXT NOT NULL,
      type TEXT NOT NULL,
      subject TEXT NOT NULL,
      time TEXT NOT NULL,
      client_id TEXT,
      received_at TEXT NOT NULL,
      payload TEXT NOT NULL
    ); CREATE INDEX IF NOT EXISTS facts_topic ON facts(topic, offset);`)
    db.function('mqtt_match', { deterministic: true }, (filter: unknown, topic: unknown) => topicMatches(String(filter), String(topic)) ? 1 : 0)
    this.#insert = db.prepare('INSERT OR IGNORE INTO facts (id, topic, type, subject, time, client_id, received_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    this.#byId = db.prepare('SELECT offset FROM facts WHERE id = ?')
    this.#insertAll = db.transaction((entries: QueuedAppend[]) => entries.map((e) => this.#insertOne(e)))
    this.#db = db
  }

  close (): void {
    this.flush()
    this.#checkpointer?.postMessage('close')
    this.#checkpointer = null
    this.#db?.close()
    this.#db = null
  }

  #open (): Database.Database {
    if (!this.#db) throw new Error('ledger is not open')
    return this.#db
  }

  /**
   * Appends a fact and returns its offset. A fact whose id is already in the ledger
   * (a QoS 1 redelivery) is not stored twice: its existing offset is returned.
   */
  append (topic: string, fact: Fact, payload: string, clientId: string | null): number {
    // Deferred appends that came first get the lower offsets.
    this.flush()
    this.#open()
    this.#checkpointInBackground()
    const receivedAt = new Date().toISOString()
    const r = this.#insertOne({ topic, fact, payload, clientId, receivedAt })
    if (r.added && this.listenerCount('append') > 0) this.emit('append', { offset: r.offset, topic, receivedAt, clientId, fact })
    return r.offset
  }

  /**
   * Appends a fact with every other append of this turn of the event loop, in one transaction
   * (a group commit: one WAL write for many facts instead of one each), and calls back once its
   * row is committed. Offsets, dedupe by id and `append` events are as with `append`, in arrival
   * order. If the group cannot be written whole, each fact is written on its own, so every fact
   * gets its own outcome.
   */
  appendDeferred (topic: string, fact: Fact, payload: string, clientId: string | null, done: AppendCallback): void {
    this.#queue.push({ topic, fact, payload, clientId, receivedAt: new Date().toISOString(), done })
    this.#flushing ??= setImmediate(() => this.flush())
  }

  /** Runs `step` after every deferred append queued before it has called back; at once when none is waiting. */
  afterAppends (step: () => void): void {
    if (this.#queue.length === 0) return step()
    this.#queue.push({ run: step })
  }

  /** Commits the deferred appends now and calls everything waiting, in order. */
  flush (): void {
    if (this.#flushing) clearImmediate(this.#flushing)
    this.#flushing = null
    const queue = this.#queue
    if (queue.length === 0) return
    this.#queue = []
    const appends = queue.filter((q): q is QueuedAppend => !('run' in q))
    let outcomes: Outcome[]
    try {
      this.#open()
      if (appends.length > 0) this.#checkpointInBackground()
      outcomes = this.#insertAll(appends)
    } catch {
      outcomes = appends.map((e) => {
        try {
          this.#open()
          return this.#insertOne(e)
        } catch (err) {
          return err instanceof Error ? err : new Error(String(err))
        }
      })
    }
    let i = 0
    let thrown: unknown = null
    for (const q of queue) {
      try {
        if ('run' in q) {
          q.run()
          continue
        }
        const r = outcomes[i++]!
        if (r instanceof Error) {
          q.done(r)
          continue
        }
        if (r.added && this.listenerCount('append') > 0) this.emit('append', { offset: r.offset, topic: q.topic, receivedAt: q.receivedAt, clientId: q.clientId, fact: q.fact })
        q.done(null, r.offset)
      } catch (err) {
        // One failing callback must not strand the others; the first failure is rethrown after.
        thrown ??= err
      }
    }
    if (thrown !== null) throw thrown
  }

  /**
   * From the first write on, checkpoints run in a worker thread instead of on every 1,000th
   * page written by a commit here. Readers (`facts tail`) never start one. Should the worker
   * fail, automatic checkpoints come back.
   */
  #checkpointInBackground (): void {
    const db = this.#db
    if (this.#checkpointer || !db || this.path === ':memory:') return
    const worker = new Worker(CHECKPOINTER, {
      eval: true,
      workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), path: this.path, everyMs: CHECKPOINT_EVERY_MS }
    })
    worker.unref()
    worker.on('error', () => {
      if (this.#checkpointer !== worker) return
      this.#checkpointer = null
      if (this.#db === db) db.pragma('wal_autocheckpoint = 1000')
    })
    db.pragma('wal_autocheckpoint = 0')
    this.#checkpointer = worker
  }

  /** Inserts one row; a fact id already present keeps its offset ([MQTT-4.3.2] QoS 1 may redeliver). */
  #insertOne (e: Omit<QueuedAppend, 'done'>): { offset: number, added: boolean } {
    const r = this.#insert.run(e.fact.id, e.topic, e.fact.type, e.fact.subject, e.fact.time, e.clientId, e.receivedAt, e.payload)
    if (r.changes === 0) return { offset: this.#byId.get(e.fact.id)!.offset, added: false }
    return { offset: Number(r.lastInsertRowid), added: true }
  }

  /** Entries after an offset, in offset order, optionally filtered by topic. */
  read (q: LedgerQuery = {}): LedgerEntry[] {
    const db = this.#open()
    const after = q.after ?? 0
    const limit = Math.min(q.limit ?? 100, MAX_LIMIT)
    const cols = 'offset, topic, received_at, client_id, payload'
    let rows: Row[]
    if (q.topic === undefined) {
      rows = db.prepare<[number, number], Row>(`SELECT ${cols} FROM facts WHERE offset > ? ORDER BY offset LIMIT ?`).all(after, limit)
    } else if (!/[+#]/.test(q.topic)) {
      rows = db.prepare<[string, number, number], Row>(`SELECT ${cols} FROM facts WHERE topic = ? AND offset > ? ORDER BY offset LIMIT ?`).all(q.topic, after, limit)
    } else {
      rows = db.prepare<[string, number, number], Row>(`SELECT ${cols} FROM facts WHERE mqtt_match(?, topic) AND offset > ? ORDER BY offset LIMIT ?`).all(q.topic, after, limit)
    }
    return rows.map(toEntry)
  }

  /** The highest offset so far (0 when empty). */
  lastOffset (): number {
    const row = this.#open().prepare<[], { o: number | null }>('SELECT MAX(offset) AS o FROM facts').get()
    return row?.o ?? 0
  }
}

function toEntry (r: Row): LedgerEntry {
  return { offset: r.offset, topic: r.topic, receivedAt: r.received_at, clientId: r.client_id, fact: JSON.parse(r.payload) as Fact }
}
