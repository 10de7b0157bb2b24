import { createHash, randomBytes } from 'node:crypto'
import type { Database, Statement } from 'better-sqlite3'
import type { Fact, FactType } from '#contract'
import { makeFact, type NewFact } from '#client'
import { Outbox, factMessage } from '../lib/outbox.ts'
import { statements } from '../lib/db.ts'
import type { PushSubscriptionJson } from '../lib/channels/index.ts'

export const PHONES_SOURCE = 'services/phones'

/** One notification on one channel, as the notifier keeps it so it can withdraw it later. */
export interface Delivery {
  escalationId: string
  factId: string
  factType: string
  subject: string
  factSeq: number
  member: string
  channel: string
  address: string
  title: string
  message: string
  status: 'sent' | 'failed' | 'withdrawn'
}

const hash = (id: string): string => createHash('sha256').update(id).digest('base64url')

/**
 * `phones.sqlite`: web app sessions (only a hash of each session id is stored), members' push
 * subscriptions, the deliveries the notifier made, and the outbox of its facts. Each delivery
 * commits with the facts that tell of it.
 */
export class PhoneStore {
  readonly outbox: Outbox
  #db: Database
  readonly #sql: (sql: string) => Statement

  constructor (db: Database) {
    this.#db = db
    this.#sql = statements(db)
    db.exec(`CREATE TABLE IF NOT EXISTS sessions (id_hash TEXT PRIMARY KEY, username TEXT NOT NULL, expires_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS push_subscriptions (endpoint TEXT PRIMARY KEY, member TEXT NOT NULL, subscription TEXT NOT NULL, created_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS deliveries (escalation_id TEXT NOT NULL, fact_id TEXT NOT NULL, fact_type TEXT NOT NULL, subject TEXT NOT NULL,
        fact_seq INTEGER NOT NULL, member TEXT NOT NULL, channel TEXT NOT NULL, address TEXT NOT NULL, title TEXT NOT NULL, message TEXT NOT NULL,
        status TEXT NOT NULL, PRIMARY KEY (escalation_id, channel, address));
      CREATE INDEX IF NOT EXISTS deliveries_open ON deliveries (subject, status);
      CREATE TABLE IF NOT EXISTS processed (id TEXT PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS parked (id TEXT PRIMARY KEY, escalation TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS seqs (subject TEXT PRIMARY KEY, seq INTEGER NOT NULL);`)
    this.outbox = new Outbox(db)
  }

  // Sessions

  /** A new session for `username`; returns its id (the cookie value). */
  createSession (username: string, ttlMs: number, now = Date.now()): string {
    const id = randomBytes(32).toString('base64url')
    this.#sql('DELETE FROM sessions WHERE expires_at <= ?').run(now)
    this.#sql('INSERT INTO sessions (id_hash, username, expires_at) VALUES (?, ?, ?)').run(hash(id), username, now + ttlMs)
    return id
  }

  /** The user of a live session, or `undefined`. */
  sessionUser (id: string, now = Date.now()): string | undefined {
    const r = this.#sql('SELECT username FROM sessions WHERE id_hash = ? AND expires_at > ?').get(hash(id), now) as { username: string } | undefined
    return r?.username
  }

  endSession (id: string): void {
    this.#sql('DELETE FROM sessions WHERE id_hash = ?').run(hash(id))
  }

  // Push subscriptions

  addSubscription (member: string, sub: PushSubscriptionJson, now = new Date()): void {
    this.#sql('INSERT INTO push_subscriptions (endpoint, member, subscription, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(endpoint) DO UPDATE SET member = excluded.member, subscription = excluded.subscription')
      .run(sub.endpoint, member, JSON.stringify(sub), now.toISOString())
  }

  /** Removes a subscription; with `member`, only when it is that member's. */
  removeSubscription (endpoint: string, member?: string): void {
    if (member === undefined) this.#sql('DELETE FROM push_subscriptions WHERE endpoint = ?').run(endpoint)
    else this.#sql('DELETE FROM push_subscriptions WHERE endpoint = ? AND member = ?').run(endpoint, member)
  }

  subscriptions (member: string): PushSubscriptionJson[] {
    return (this.#sql('SELECT subscription FROM push_subscriptions WHERE member = ? ORDER BY created_at').all(member) as { subscription: string }[])
      .map((r) => JSON.parse(r.subscription) as PushSubscriptionJson)
  }

  // The notifier

  processed (id: string): boolean {
    return this.#sql('SELECT 1 FROM processed WHERE id = ?').get(id) !== undefined
  }

  /**
   * Keeps an escalation that has to wait for its evidence (no state yet), so it can be
   * acknowledged without being lost; it is decided again when the evidence arrives.
   */
  park (id: string, escalation: string): void {
    this.#sql('INSERT OR IGNORE INTO parked (id, escalation) VALUES (?, ?)').run(id, escalation)
  }

  parked (): string[] {
    return (this.#sql('SELECT escalation FROM parked ORDER BY id').all() as { escalation: string }[]).map((r) => r.escalation)
  }

  /** Marks an escalation or claim handled, with the facts that tell of it, in one transaction. */
  commit (id: string, facts: { topic: string, fact: Fact }[], deliveries: Delivery[] = [], now = new Date()): void {
    this.#db.transaction(() => {
      this.#sql('INSERT OR IGNORE INTO processed (id) VALUES (?)').run(id)
      this.#sql('DELETE FROM parked WHERE id = ?').run(id)
      const upsert = this.#sql(`INSERT INTO deliveries (escalation_id, fact_id, fact_type, subject, fact_seq, member, channel, address, title, message, status)
        VALUES (@escalationId, @factId, @factType, @subject, @factSeq, @member, @channel, @address, @title, @message, @status)
        ON CONFLICT (escalation_id, channel, address) DO UPDATE SET status = excluded.status`)
      for (const d of deliveries) upsert.run(d)
      if (facts.length > 0) this.outbox.add(facts.map((f) => factMessage(f.topic, f.fact)), now)
    })()
    if (facts.length > 0) this.outbox.notify()
  }

  /** Marks deliveries withdrawn, with the facts that tell of it. */
  withdrawn (deliveries: Delivery[], facts: { topic: string, fact: Fact }[], now = new Date()): void {
    this.#db.transaction(() => {
      const mark = this.#sql("UPDATE deliveries SET status = 'withdrawn' WHERE escalation_id = ? AND channel = ? AND address = ?")
      for (const d of deliveries) mark.run(d.escalationId, d.channel, d.address)
      if (facts.length > 0) this.outbox.add(facts.map((f) => factMessage(f.topic, f.fact)), now)
    })()
    if (facts.length > 0) this.outbox.notify()
  }

  /** Deliveries still showing on a phone (sent, not withdrawn) about a subject. */
  openDeliveries (subject: string): Delivery[] {
    return (this.#sql(`SELECT escalation_id AS escalationId, fact_id AS factId, fact_type AS factType, subject, fact_seq AS factSeq, member, channel, address, title, message, status
      FROM deliveries WHERE subject = ? AND status = 'sent'`).all(subject) as Delivery[])
  }

  /** Subjects with deliveries still showing, to check once the mirror has their state. */
  openSubjects (): string[] {
    return (this.#sql("SELECT DISTINCT subject FROM deliveries WHERE status = 'sent'").all() as { subject: string }[]).map((r) => r.subject)
  }

  /** A fact from the notifier, with the next seq of its subject. */
  fact<T extends FactType> (type: T, fields: Omit<NewFact<T>, 'seq' | 'source'>): Fact<T> {
    const r = this.#sql('INSERT INTO seqs (subject, seq) VALUES (?, 1) ON CONFLICT(subject) DO UPDATE SET seq = seq + 1 RETURNING seq').get(fields.subject) as { seq: number }
    return makeFact(type, { ...fields, source: PHONES_SOURCE, seq: r.seq } as NewFact<T>)
  }
}
