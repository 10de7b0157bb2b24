import type { Database } from 'better-sqlite3'
import { Codes, HomefactsError, orderFactTopic, orderSubject, factName } from '#contract'
import { makeFact } from '#client'
import { Outbox, factMessage } from '../lib/outbox.ts'
import type { Order, OrderEvent } from './core.ts'

/** The source every order fact names. */
export const ORDERS_SOURCE = 'services/orders'

interface Row { id: string, customer_id: string, lines: string, total: number, currency: string, status: Order['status'], seq: number, created_at: string, updated_at: string }
const toOrder = (r: Row): Order => ({ id: r.id, customerId: r.customer_id, lines: JSON.parse(r.lines) as Order['lines'], total: r.total, currency: r.currency, status: r.status, seq: r.seq, createdAt: r.created_at, updatedAt: r.updated_at })

/**
 * Orders in SQLite, with the outbox in the same file: an order row and the fact that tells of
 * it commit in one transaction, so there is never an order without its fact, nor the reverse.
 */
export class OrderStore {
  readonly outbox: Outbox
  #db: Database

  constructor (db: Database) {
    this.#db = db
    db.exec(`CREATE TABLE IF NOT EXISTS orders (
      id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, lines TEXT NOT NULL, total INTEGER NOT NULL,
      currency TEXT NOT NULL, status TEXT NOT NULL, seq INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`)
    this.outbox = new Outbox(db)
  }

  get (id: string): Order {
    const r = this.#db.prepare('SELECT * FROM orders WHERE id = ?').get(id) as Row | undefined
    if (!r) throw new HomefactsError(Codes.NOT_FOUND, `no order "${id}"`)
    return toOrder(r)
  }

  list (opts: { customerId?: string, limit?: number } = {}): Order[] {
    const limit = opts.limit ?? 100
    const rows = opts.customerId
      ? this.#db.prepare('SELECT * FROM orders WHERE customer_id = ? ORDER BY id LIMIT ?').all(opts.customerId, limit)
      : this.#db.prepare('SELECT * FROM orders ORDER BY id LIMIT ?').all(limit)
    return (rows as Row[]).map(toOrder)
  }

  /** Writes the order and its fact in one transaction, then wakes the relay. */
  save (order: Order, event: OrderEvent, now: Date): void {
    const fact = makeFact(event.type, { subject: orderSubject(order.id), source: ORDERS_SOURCE, seq: event.seq, data: event.data as never, time: now })
    this.#db.transaction(() => {
      this.#db.prepare(`INSERT INTO orders (id, customer_id, lines, total, currency, status, seq, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET status = excluded.status, seq = excluded.seq, updated_at = excluded.updated_at`)
        .run(order.id, order.customerId, JSON.stringify(order.lines), order.total, order.currency, order.status, order.seq, order.createdAt, order.updatedAt)
      this.outbox.add([factMessage(orderFactTopic(order.id, factName(event.type)), fact)], now)
    })()
    this.outbox.notify()
  }
}
