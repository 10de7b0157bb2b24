import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { Worker } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { Codes, HomefactsError, topicMatches, type Fact } from '#contract'

/** One fact as the ledger keeps it, with its global offset. */
export interface LedgerEntry {
  offset: number
  topic: string
  /** When the broker accepted it (ISO time: when its batch was written). */
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

/** Called once the fact's row is committed (with its offset), or with the error that kept it out. */
export type AppendCallback = (err: Error | null, offset?: number) => void

interface Row { offset: number, topic: string, received_at: string, client_id: string | null, payload: string }
interface Append { id: string, topic: string, payload: string, clientId: string | null, done: AppendCallback }

export const MAX_LIMIT = 10_000
/** How often the checkpoint thread moves the WAL into the database file. */
const CHECKPOINT_EVERY_MS = 1000

/**
 * The fact ledger: an append-only SQLite table (WAL), one global offset per fact. Appends made
 * together (one read of a socket, say) are one transaction, a group commit, once their code has
 * returned (a microtask); each `done` is called in arrival order once it is committed, in the WAL,
 * which a `kill -9` cannot lose (`synchronous = NORMAL`). A redelivery of the same payload under
 * its id keeps its offset; another fact under a used id fails with `HF_DUPLICATE_ID`. Reads stop
 * at the last append called back, so a reader sees a fact exactly when its `append` is emitted.
 */
export class Ledger extends EventEmitter<{ append: [LedgerEntry] }> {
  readonly path: string
  #db: Database.Database | null = null
  #sql: ReturnType<typeof statements> | null = null
  #queue: Append[] = []
  #flushing = false
  /** The highest offset called back; reads end there. */
  #announced = 0
  /** The thread that runs the WAL checkpoints (`checkpoints.js`), started at the first append. */
  #checkpoints: Worker | null = null
  readonly #onError: (err: Error) => void

  /** `onError` hears of a checkpoint thread that failed (checkpoints then run on this thread). */
  constructor (path: string, onError: (err: Error) => void = () => {}) {
    super()
    this.path = path
    this.#onError = onError
  }

  open (): void {
    if (this.#db) return
    mkdirSync(dirname(this.path), { recursive: true })
    const db = new Database(this.path)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    // The checkpoint thread's: an automatic one would run on this thread, after a commit.
    db.pragma('wal_autocheckpoint = 0')
    db.exec(`CREATE TABLE IF NOT EXISTS facts (
      offset INTEGER PRIMARY KEY, -- rowid: max + 1, so offsets have no gaps (rows are never deleted)
      id TEXT NOT NULL UNIQUE, -- the fact's; the rest of the envelope is in the payload
      topic TEXT NOT NULL,
      client_id TEXT,
      received_at TEXT NOT NULL,
      payload TEXT NOT NULL
    );
    -- Named read positions kept with the facts (the estate's last offset its stream acknowledged).
    CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, offset INTEGER NOT NULL)`)
    // Older ledgers kept type, subject and time in columns, with a topic index: the payload holds them.
    if ((db.pragma('table_info(facts)') as { name: string }[]).some((c) => c.name === 'type')) {
      db.exec('DROP INDEX IF EXISTS facts_topic; ALTER TABLE facts DROP COLUMN type; ALTER TABLE facts DROP COLUMN subject; ALTER TABLE facts DROP COLUMN time')
    }
    db.function('mqtt_match', { deterministic: true }, (filter: unknown, topic: unknown) => topicMatches(String(filter), String(topic)) ? 1 : 0)
    this.#db = db
    this.#sql = statements(db)
    this.#announced = this.#sql.maxOffset.get()?.o ?? 0
  }

  /** Writes the appends still queued, stops the checkpoint thread, then closes (SQLite checkpoints at the last close). */
  async close (): Promise<void> {
    this.#flush()
    const checkpoints = this.#checkpoints
    this.#checkpoints = null
    if (checkpoints) {
      checkpoints.postMessage('stop')
      await new Promise((resolve) => checkpoints.once('exit', resolve))
    }
    this.#db?.close()
    this.#db = null
    this.#sql = null
  }

  /** The offset kept under `name` (0 when none is). */
  cursor (name: string): number {
    return this.#q.cursor.get(name)?.offset ?? 0
  }

  /** Keeps `offset` under `name`, in the ledger's own database. */
  setCursor (name: string, offset: number): void {
    this.#q.setCursor.run(name, offset)
  }

  /** True between `open()` and `close()`. */
  get isOpen (): boolean {
    return this.#db !== null
  }

  /**
   * Appends a fact with the others made with it, in one transaction, and calls back once its row
   * is committed, with its offset. `payload` is the fact as received (what is stored).
   */
  appendDeferred (topic: string, fact: Fact, payload: string, clientId: string | null, done: AppendCallback): void {
    if (!this.#sql) {
      done(new Error('the ledger is not open'))
      return
    }
    this.#queue.push({ id: fact.id, topic, payload, clientId, done })
    if (!this.#flushing) {
      this.#flushing = true
      queueMicrotask(() => this.#flush())
    }
    if (!this.#checkpoints) this.#startCheckpoints()
  }

  /** Checkpoints hold an event loop for milliseconds, so they run on a thread; if it fails, SQLite's automatic ones take over. */
  #startCheckpoints (): void {
    const worker = new Worker(new URL('./checkpoints.js', import.meta.url), { workerData: { path: this.path, everyMs: CHECKPOINT_EVERY_MS } })
    worker.unref()
    worker.on('error', (err) => {
      this.#onError(err)
      this.#db?.pragma('wal_autocheckpoint = 1000')
    })
    this.#checkpoints = worker
  }

  #flush (): void {
    this.#flushing = false
    const batch = this.#queue
    if (batch.length === 0) return
    this.#queue = []
    const sql = this.#sql
    const receivedAt = new Date().toISOString()
    let outcomes: (number | Error)[]
    if (!sql) {
      outcomes = batch.map(() => new Error('the ledger is closed'))
    } else {
      try {
        outcomes = sql.tx(() => batch.map((a) => this.#insert(sql, a, receivedAt)))
      } catch {
        // The batch failed as a whole (a full disk, say): each fact on its own, so each gets its own outcome.
        outcomes = batch.map((a) => {
          try {
            return sql.tx(() => this.#insert(sql, a, receivedAt))
          } catch (err) {
            return err as Error
          }
        })
      }
    }
    let thrown: unknown = null
    for (let i = 0; i < batch.length; i++) {
      const a = batch[i]!
      const outcome = outcomes[i]!
      try {
        if (outcome instanceof Error) {
          a.done(outcome)
          continue
        }
        if (outcome > this.#announced) {
          this.#announced = outcome
          if (this.listenerCount('append') > 0) this.emit('append', { offset: outcome, topic: a.topic, receivedAt, clientId: a.clientId, fact: JSON.parse(a.payload) as Fact })
        }
        a.done(null, outcome)
      } catch (err) {
        // One failing callback must not strand the others; the first failure is rethrown after.
        thrown ??= err
      }
    }
    if (thrown !== null) throw thrown
  }

  /** The offset of the fact's row: a new one, or the one it has already ([MQTT-4.3.2] QoS 1 may redeliver). */
  #insert (sql: ReturnType<typeof statements>, a: Append, receivedAt: string): number | Error {
    const inserted = sql.insert.run(a.id, a.topic, a.clientId, receivedAt, a.payload)
    if (inserted.changes > 0) return Number(inserted.lastInsertRowid)
    const row = sql.byIdPayload.get(a.id)!
    if (row.payload === a.payload) return row.offset
    return new HomefactsError(Codes.DUPLICATE_ID, `fact id ${a.id} is already in the ledger for a different fact`, [{ path: 'id', message: 'already used by another fact' }])
  }

  get #q (): ReturnType<typeof statements> {
    if (!this.#sql) throw new Error('ledger is not open')
    return this.#sql
  }

  /** Entries after an offset, in offset order, optionally filtered by topic. */
  read (q: LedgerQuery = {}): LedgerEntry[] {
    const after = q.after ?? 0
    const limit = Math.min(q.limit ?? 100, MAX_LIMIT)
    const sql = this.#q
    const rows = q.topic === undefined
      ? sql.after.all(after, this.#announced, limit)
      : /[+#]/.test(q.topic)
        ? sql.afterMatching.all(q.topic, after, this.#announced, limit)
        : sql.afterOnTopic.all(q.topic, after, this.#announced, limit)
    return rows.map(toEntry)
  }

  /** The entry of a fact by its id. */
  byId (id: string): LedgerEntry | undefined {
    const r = this.#q.byId.get(id)
    return r ? toEntry(r) : undefined
  }

  /**
   * A fact's story (the trace view): every later fact caused by it, directly or through others
   * (`causationid`), in offset order, and the first later fact on its subject with a higher seq
   * (the one that resolved it). One pass from the fact's offset: a cause is always written
   * before its effects. At most `scan` later entries are read.
   */
  story (id: string, scan = 50_000): { fact: LedgerEntry, steps: LedgerEntry[], resolution: LedgerEntry | null } | undefined {
    const root = this.byId(id)
    if (!root) return undefined
    const sql = this.#q
    const ids = new Set([id])
    const steps: LedgerEntry[] = []
    for (const r of sql.caused.iterate(root.offset, root.offset + scan)) {
      if (!ids.has(r.causationid)) continue
      ids.add(r.id)
      steps.push(toEntry(r))
    }
    const next = sql.resolution.get(root.offset, root.offset + scan, root.fact.subject, root.fact.seq)
    return { fact: root, steps, resolution: next ? toEntry(next) : null }
  }

  /** The highest offset so far (0 when empty). */
  lastOffset (): number {
    return this.#announced
  }
}

const COLUMNS = 'offset, topic, received_at, client_id, payload'

function statements (db: Database.Database) {
  return {
    tx: transactionRunner(db),
    maxOffset: db.prepare<[], { o: number | null }>('SELECT MAX(offset) AS o FROM facts'),
    cursor: db.prepare<[string], { offset: number }>('SELECT offset FROM cursors WHERE name = ?'),
    setCursor: db.prepare<[string, number]>('INSERT INTO cursors (name, offset) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET offset = excluded.offset'),
    insert: db.prepare<[string, string, string | null, string, string]>('INSERT OR IGNORE INTO facts (id, topic, client_id, received_at, payload) VALUES (?, ?, ?, ?, ?)'),
    byIdPayload: db.prepare<[string], { offset: number, payload: string }>('SELECT offset, payload FROM facts WHERE id = ?'),
    byId: db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM facts WHERE id = ?`),
    after: db.prepare<[number, number, number], Row>(`SELECT ${COLUMNS} FROM facts WHERE offset > ? AND offset <= ? ORDER BY offset LIMIT ?`),
    afterOnTopic: db.prepare<[string, number, number, number], Row>(`SELECT ${COLUMNS} FROM facts WHERE topic = ? AND offset > ? AND offset <= ? ORDER BY offset LIMIT ?`),
    afterMatching: db.prepare<[string, number, number, number], Row>(`SELECT ${COLUMNS} FROM facts WHERE mqtt_match(?, topic) AND offset > ? AND offset <= ? ORDER BY offset LIMIT ?`),
    caused: db.prepare<[number, number], Row & { causationid: string, id: string }>(`SELECT ${COLUMNS}, id, json_extract(payload, '$.causationid') AS causationid
      FROM facts WHERE offset > ? AND offset <= ? AND json_extract(payload, '$.causationid') IS NOT NULL ORDER BY offset`),
    resolution: db.prepare<[number, number, string, number], Row>(`SELECT ${COLUMNS} FROM facts
      WHERE offset > ? AND offset <= ? AND json_extract(payload, '$.subject') = ? AND json_extract(payload, '$.seq') > ? ORDER BY offset LIMIT 1`)
  }
}

function toEntry (r: Row): LedgerEntry {
  return { offset: r.offset, topic: r.topic, receivedAt: r.received_at, clientId: r.client_id, fact: JSON.parse(r.payload) as Fact }
}

/** Runs a function in one (immediate) transaction; the transaction wrapper is made once. */
function transactionRunner (db: Database.Database): <T>(fn: () => T) => T {
  const run = db.transaction((fn: () => unknown) => fn())
  return <T>(fn: () => T): T => run.immediate(fn) as T
}
