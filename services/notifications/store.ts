import type { Database } from 'better-sqlite3'
import { notifyFactTopic, notifySubject, type Fact } from '#contract'
import { makeFact } from '#client'
import { Outbox, factMessage } from '../lib/outbox.ts'
import type { Contact, Notice, OrderFact } from './core.ts'

export const NOTIFICATIONS_SOURCE = 'services/notifications'

/**
 * Notifications' own SQLite file: the contacts it keeps from customer facts and profiles, the
 * ids of the facts it has handled, the orders waiting for their customer, and the outbox of its
 * `notification.sent` facts. Each handled fact id commits with its effect.
 */
export class NotificationStore {
  readonly outbox: Outbox
  #db: Database

  constructor (db: Database) {
    this.#db = db
    db.exec(`CREATE TABLE IF NOT EXISTS contacts (customer_id TEXT PRIMARY KEY, contact TEXT NOT NULL, seq INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS processed (fact_id TEXT PRIMARY KEY, at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS waiting (fact_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, fact TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS waiting_customer ON waiting (customer_id, fact_id);
      CREATE TABLE IF NOT EXISTS seqs (subject TEXT PRIMARY KEY, seq INTEGER NOT NULL);`)
    this.outbox = new Outbox(db)
  }

  contact (customerId: string): Contact | undefined {
    const r = this.#db.prepare('SELECT contact FROM contacts WHERE customer_id = ?').get(customerId) as { contact: string } | undefined
    return r ? JSON.parse(r.contact) as Contact : undefined
  }

  processed (factId: string): boolean {
    return this.#db.prepare('SELECT 1 FROM processed WHERE fact_id = ?').get(factId) !== undefined
  }

  /** Keeps a newer contact, and the customer fact's id when it came from one. */
  keepContact (contact: Contact, factId?: string): void {
    this.#db.transaction(() => {
      this.#db.prepare('INSERT INTO contacts (customer_id, contact, seq) VALUES (?, ?, ?) ON CONFLICT(customer_id) DO UPDATE SET contact = excluded.contact, seq = excluded.seq')
        .run(contact.customerId, JSON.stringify(contact), contact.seq)
      if (factId) this.markProcessed(factId)
    })()
  }

  /** An order whose customer is not known yet: it waits, and counts as handled (its effect is the wait). */
  wait (fact: OrderFact): void {
    this.#db.transaction(() => {
      this.#db.prepare('INSERT OR IGNORE INTO waiting (fact_id, customer_id, fact) VALUES (?, ?, ?)').run(fact.id, fact.data.customerId, JSON.stringify(fact))
      this.markProcessed(fact.id)
    })()
  }

  /** The orders waiting for this customer, oldest first. */
  waitingFor (customerId: string): OrderFact[] {
    return (this.#db.prepare('SELECT fact FROM waiting WHERE customer_id = ? ORDER BY fact_id').all(customerId) as { fact: string }[]).map((r) => JSON.parse(r.fact) as OrderFact)
  }

  /**
   * Records that a notice went out: the fact is handled, no longer waiting, and one
   * `notification.sent` fact per channel is in the outbox, all in one transaction.
   */
  sent (notice: Notice, deliveries: { channel: string, address: string }[], now: Date): void {
    const subject = notifySubject(notice.recipient)
    this.#db.transaction(() => {
      this.markProcessed(notice.fact.id)
      this.#db.prepare('DELETE FROM waiting WHERE fact_id = ?').run(notice.fact.id)
      for (const d of deliveries) {
        const seq = this.#nextSeq(subject)
        const fact: Fact<'notification.sent'> = makeFact('notification.sent', {
          subject,
          source: NOTIFICATIONS_SOURCE,
          seq,
          causationid: notice.fact.id,
          time: now,
          data: { recipient: notice.recipient, channel: d.channel, address: d.address, message: notice.message, about: notice.fact }
        })
        this.outbox.add([factMessage(notifyFactTopic(notice.recipient, 'sent'), fact)], now)
      }
    })()
    this.outbox.notify()
  }

  #nextSeq (subject: string): number {
    const r = this.#db.prepare('INSERT INTO seqs (subject, seq) VALUES (?, 1) ON CONFLICT(subject) DO UPDATE SET seq = seq + 1 RETURNING seq').get(subject) as { seq: number }
    return r.seq
  }

  /** Marks a fact handled; alone, for a fact with no effect (a stale customer update). */
  markProcessed (factId: string): void {
    this.#db.prepare('INSERT OR IGNORE INTO processed (fact_id, at) VALUES (?, ?)').run(factId, new Date().toISOString())
  }
}
