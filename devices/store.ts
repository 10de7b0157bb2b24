import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { ThingState } from '#contract'

/** A message to queue. */
export interface Outgoing {
  topic: string
  payload: string
  retain: boolean
}

/** A message waiting in the outbox, numbered in the order it was recorded. */
export interface OutboxRow extends Outgoing {
  n: number
}

/** What the store remembers about a thing between runs. */
export interface ThingMemory {
  seq: number
  state: ThingState | undefined
}

/**
 * The device's durable memory: the last `seq` and state of each thing, and an outbox of
 * messages not yet acknowledged by the broker. One SQLite file per device process, so a fact
 * recorded while the broker is away survives a restart and goes out, in order, once it is back.
 *
 * The outbox is bounded: past `maxRows` the oldest rows are dropped and returned, for the
 * caller to log. A newer retained state replaces an older one still waiting for the same topic,
 * so the bound is spent on facts.
 */
export class DeviceStore {
  readonly maxRows: number
  #db: Database.Database

  /** `path` is a file, or `:memory:` for a device that needs no durability (the fleet simulator). */
  constructor (path: string, opts: { maxRows?: number } = {}) {
    this.maxRows = opts.maxRows ?? 1000
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    this.#db = new Database(path)
    if (path !== ':memory:') {
      this.#db.pragma('journal_mode = WAL')
      // FULL: a fact the device counted must still be there after a power cut.
      this.#db.pragma('synchronous = FULL')
    }
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS things (subject TEXT PRIMARY KEY, seq INTEGER NOT NULL, state TEXT);
      CREATE TABLE IF NOT EXISTS outbox (n INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, payload TEXT NOT NULL, retain INTEGER NOT NULL);
    `)
  }

  /** The last seq and state recorded for a subject (seq 0 when it has none). */
  memory (subject: string): ThingMemory {
    const row = this.#db.prepare('SELECT seq, state FROM things WHERE subject = ?').get(subject) as { seq: number, state: string | null } | undefined
    return { seq: row?.seq ?? 0, state: row?.state ? JSON.parse(row.state) as ThingState : undefined }
  }

  /**
   * Atomically takes the next seq for `subject`, lets `build` make the messages for it, stores
   * the new state and queues the messages. Returns what was queued and any rows the bound dropped.
   */
  record (subject: string, build: (seq: number) => { state: ThingState, messages: Outgoing[] }): { seq: number, dropped: OutboxRow[] } {
    return this.#db.transaction(() => {
      const seq = this.memory(subject).seq + 1
      const { state, messages } = build(seq)
      this.#db.prepare('INSERT INTO things (subject, seq, state) VALUES (?, ?, ?) ON CONFLICT(subject) DO UPDATE SET seq = excluded.seq, state = excluded.state')
        .run(subject, seq, JSON.stringify(state))
      for (const m of messages) {
        if (m.retain) this.#db.prepare('DELETE FROM outbox WHERE topic = ? AND retain = 1').run(m.topic)
        this.#db.prepare('INSERT INTO outbox (topic, payload, retain) VALUES (?, ?, ?)').run(m.topic, m.payload, m.retain ? 1 : 0)
      }
      const over = this.pending() - this.maxRows
      const dropped = over > 0 ? this.#rows('SELECT * FROM outbox ORDER BY n LIMIT ?', over) : []
      for (const r of dropped) this.#db.prepare('DELETE FROM outbox WHERE n = ?').run(r.n)
      return { seq, dropped }
    })()
  }

  /** The oldest queued message, if any. */
  peek (): OutboxRow | undefined {
    return this.#rows('SELECT * FROM outbox ORDER BY n LIMIT 1')[0]
  }

  /** Removes a message once the broker has acknowledged it. */
  remove (n: number): void {
    this.#db.prepare('DELETE FROM outbox WHERE n = ?').run(n)
  }

  pending (): number {
    return (this.#db.prepare('SELECT count(*) AS c FROM outbox').get() as { c: number }).c
  }

  close (): void {
    if (this.#db.open) this.#db.close()
  }

  #rows (sql: string, ...args: unknown[]): OutboxRow[] {
    const rows = this.#db.prepare(sql).all(...args) as { n: number, topic: string, payload: string, retain: number }[]
    return rows.map((r) => ({ n: r.n, topic: r.topic, payload: r.payload, retain: r.retain === 1 }))
  }
}
