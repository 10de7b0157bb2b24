import type { Database, Statement } from 'better-sqlite3'
import { statements } from './db.ts'
import type { Fact } from '#contract'

/** One publish waiting in the outbox: a fact, or a retained state (a profile) that goes with it. */
export interface OutboxMessage {
  topic: string
  payload: string
  retain: boolean
}

/** A row of the outbox as the relay and `--failed` see it. */
export interface OutboxRow extends OutboxMessage {
  id: number
  status: 'pending' | 'sent' | 'failed'
  reason: string | null
  createdAt: string
}

interface RawRow { id: number, topic: string, payload: string, retain: number, status: OutboxRow['status'], reason: string | null, created_at: string }
const toRow = (r: RawRow): OutboxRow => ({ id: r.id, topic: r.topic, payload: r.payload, retain: r.retain === 1, status: r.status, reason: r.reason, createdAt: r.created_at })

/** The outbox message for a fact on its topic: facts are never retained. */
export const factMessage = (topic: string, fact: Fact): OutboxMessage => ({ topic, payload: JSON.stringify(fact), retain: false })

/** The transactional outbox: a producer's change and the facts that tell of it commit together or not at all. */
export class Outbox {
  readonly db: Database
  readonly #sql: (sql: string) => Statement
  #listeners = new Set<() => void>()

  constructor (db: Database) {
    this.db = db
    this.#sql = statements(db)
    db.exec(`CREATE TABLE IF NOT EXISTS outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      topic TEXT NOT NULL,
      payload TEXT NOT NULL,
      retain INTEGER NOT NULL,
      status TEXT NOT NULL DEFAULT 'pending',
      reason TEXT,
      created_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (status, id);`)
  }

  /** Appends messages; call it inside the producer's transaction, then `notify()` after the commit. */
  add (messages: readonly OutboxMessage[], now: Date = new Date()): void {
    const insert = this.#sql('INSERT INTO outbox (topic, payload, retain, created_at) VALUES (?, ?, ?, ?)')
    for (const m of messages) insert.run(m.topic, m.payload, m.retain ? 1 : 0, now.toISOString())
  }

  /** Tells the relay there is something new (after the commit: a rolled-back row must not be sent). */
  notify (): void {
    for (const l of this.#listeners) l()
  }

  onAdded (listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** The oldest pending rows, in the order they were added. */
  pending (limit = 100): OutboxRow[] {
    return (this.#sql("SELECT * FROM outbox WHERE status = 'pending' ORDER BY id LIMIT ?").all(limit) as RawRow[]).map(toRow)
  }

  failed (): OutboxRow[] {
    return (this.#sql("SELECT * FROM outbox WHERE status = 'failed' ORDER BY id").all() as RawRow[]).map(toRow)
  }

  counts (): Record<OutboxRow['status'], number> {
    const out = { pending: 0, sent: 0, failed: 0 }
    for (const r of this.#sql('SELECT status, COUNT(*) AS n FROM outbox GROUP BY status').all() as { status: OutboxRow['status'], n: number }[]) out[r.status] = r.n
    return out
  }

  markSent (id: number): void {
    this.#sql("UPDATE outbox SET status = 'sent' WHERE id = ?").run(id)
  }

  /** A refused message is a producer bug: kept with its reason, never retried. */
  markFailed (id: number, reason: string): void {
    this.#sql("UPDATE outbox SET status = 'failed', reason = ? WHERE id = ?").run(reason, id)
  }
}
