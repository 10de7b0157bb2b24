import type { Database } from 'better-sqlite3'
import { Codes, HomefactsError, customerFactTopic, customerProfileTopic, customerSubject, factName } from '#contract'
import { makeFact } from '#client'
import { Outbox, factMessage } from '../lib/outbox.ts'
import type { Customer, CustomerEvent } from './core.ts'

/** The source every customer fact names. */
export const CUSTOMERS_SOURCE = 'services/customers'

/**
 * Customers in SQLite with the outbox in the same file. Each change commits the row, its fact
 * and the new retained profile together; the relay sends the fact before the profile.
 */
export class CustomerStore {
  readonly outbox: Outbox
  #db: Database

  constructor (db: Database) {
    this.#db = db
    db.exec('CREATE TABLE IF NOT EXISTS customers (id TEXT PRIMARY KEY, profile TEXT NOT NULL, seq INTEGER NOT NULL)')
    this.outbox = new Outbox(db)
  }

  get (id: string): Customer {
    const r = this.#db.prepare('SELECT profile FROM customers WHERE id = ?').get(id) as { profile: string } | undefined
    if (!r) throw new HomefactsError(Codes.NOT_FOUND, `no customer "${id}"`)
    return JSON.parse(r.profile) as Customer
  }

  list (limit = 100): Customer[] {
    return (this.#db.prepare('SELECT profile FROM customers ORDER BY id LIMIT ?').all(limit) as { profile: string }[]).map((r) => JSON.parse(r.profile) as Customer)
  }

  save (customer: Customer, event: CustomerEvent, now: Date): void {
    const id = customer.customerId
    const fact = makeFact(event.type, { subject: customerSubject(id), source: CUSTOMERS_SOURCE, seq: customer.seq, data: event.data as never, time: now })
    this.#db.transaction(() => {
      this.#db.prepare('INSERT INTO customers (id, profile, seq) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET profile = excluded.profile, seq = excluded.seq')
        .run(id, JSON.stringify(customer), customer.seq)
      this.outbox.add([
        factMessage(customerFactTopic(id, factName(event.type)), fact),
        { topic: customerProfileTopic(id), payload: JSON.stringify(customer), retain: true }
      ], now)
    })()
    this.outbox.notify()
  }
}
