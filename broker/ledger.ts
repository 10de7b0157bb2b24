import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
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

export const MAX_LIMIT = 10_000

/**
 * The fact ledger: an append-only SQLite table (WAL), one global offset per fact.
 * `append` is synchronous, so a fact is in the ledger before the broker acknowledges it.
 * Emits `append` with each new `LedgerEntry`.
 */
export class Ledger extends EventEmitter<{ append: [LedgerEntry] }> {
  readonly path: string
  #db: Database.Database | null = null
  #insert!: Database.Statement<[string, string, string, string, string, string | null, string, string]>
  #byId!: Database.Statement<[string], { offset: number }>

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
      offset INTEGER PRIMARY KEY AUTOINCREMENT,
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
    this.#db = db
  }

  close (): void {
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
    this.#open()
    const receivedAt = new Date().toISOString()
    const r = this.#insert.run(fact.id, topic, fact.type, fact.subject, fact.time, clientId, receivedAt, payload)
    if (r.changes === 0) return this.#byId.get(fact.id)!.offset
    const offset = Number(r.lastInsertRowid)
    if (this.listenerCount('append') > 0) this.emit('append', { offset, topic, receivedAt, clientId, fact })
    return offset
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
