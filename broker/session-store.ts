import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { Readable } from 'node:stream'
import Database from 'better-sqlite3'
import AedesPacket from 'aedes-packet'
import { Packr } from 'msgpackr'
import QlobberSub from 'qlobber/aedes/qlobber-sub.js'
import { QlobberTrue } from 'qlobber'

/** A packet as aedes hands it to the store: a PUBLISH (or a PUBREL in an outgoing queue). */
export interface StoredPacket {
  cmd: string
  topic: string
  payload: Buffer
  qos: number
  brokerId?: string
  brokerCounter?: number
  messageId?: number
  [field: string]: unknown
}
/** A subscription as aedes stores it: its filter and options. */
export interface Subscription { topic: string, qos: number, [option: string]: unknown }
interface Client { id: string }
interface Broker { id: string }

/** aedes-packet's Packet: a copy of a packet with its broker id and counter (its own types say otherwise). */
const Packet = AedesPacket as unknown as new (packet: object) => StoredPacket

const QLOBBER_OPTIONS = { wildcard_one: '+', wildcard_some: '#', separator: '/', match_empty_levels: true }
// Packets keep their `undefined` fields and their Buffers (payload, correlation data) as Buffers.
const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: false })

/** A packet without its callbacks (aedes hangs its write callback on the packets it sends). */
function encode (packet: object): Buffer {
  const plain: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(packet)) if (typeof value !== 'function') plain[key] = value
  return packr.pack(plain)
}
const decode = <T>(blob: Buffer): T => packr.unpack(blob) as T

const SCHEMA = `
CREATE TABLE IF NOT EXISTS retained (topic TEXT PRIMARY KEY, packet BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subscriptions (
  client_id TEXT NOT NULL, topic TEXT NOT NULL, qos INTEGER NOT NULL, sub BLOB NOT NULL,
  PRIMARY KEY (client_id, topic));
-- A session's queue, in the order messages were queued (seq).
CREATE TABLE IF NOT EXISTS outgoing (
  seq INTEGER PRIMARY KEY, client_id TEXT NOT NULL, broker_id TEXT, broker_counter INTEGER,
  message_id INTEGER, packet BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS outgoing_queue ON outgoing (client_id, seq);
CREATE INDEX IF NOT EXISTS outgoing_by_counter ON outgoing (client_id, broker_id, broker_counter);
CREATE INDEX IF NOT EXISTS outgoing_by_message ON outgoing (client_id, message_id) WHERE message_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS incoming (
  client_id TEXT NOT NULL, message_id INTEGER NOT NULL, packet BLOB NOT NULL,
  PRIMARY KEY (client_id, message_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS wills (client_id TEXT PRIMARY KEY, broker_id TEXT, packet BLOB NOT NULL) WITHOUT ROWID;
`

/**
 * The broker's sessions, retained messages, queued and in-flight QoS 1 and 2 messages and wills,
 * in SQLite: a plain aedes-persistence, checked by its abstract suite (test/broker/session-store.abstract.mjs).
 * Each call is one transaction, applied in call order, that has committed when its promise
 * resolves: in the WAL, which a `kill -9` cannot lose (`synchronous = NORMAL`: a power cut can
 * lose the last transactions, never part of one). QoS 1/2 subscriptions are also in a qlobber
 * trie, for `subscriptionsByTopic`, which aedes asks on every QoS 1/2 publish.
 */
export class SessionStore {
  readonly path: string
  #db: Database.Database | null = null
  #trie = new QlobberSub<Subscription & { clientId: string }>(QLOBBER_OPTIONS)
  #broker: Broker | null = null
  #sql: ReturnType<typeof statements> | null = null

  /** @param path the SQLite file; opened by `setup` (aedes calls it as it starts). */
  constructor (path: string) {
    this.path = path
  }

  /** The broker, once set up (aedes-persistence's abstract suite reads it). */
  get broker (): Broker | null {
    return this.#broker
  }

  async setup (broker: Broker): Promise<void> {
    this.#broker = broker
    if (this.#db) return
    if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true })
    const db = new Database(this.path)
    try {
      // One broker per store: the first write takes a lock held until close, so a second hub on
      // the same data dir fails here (SQLITE_BUSY) instead of sharing its sessions.
      db.pragma('locking_mode = EXCLUSIVE')
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      db.exec(SCHEMA)
    } catch (err) {
      db.close()
      throw err
    }
    this.#db = db
    this.#sql = statements(db)
    for (const row of this.#sql.allSubscriptions.all()) {
      if (row.qos > 0) this.#trie.add(row.topic, { ...decode<Subscription>(row.sub), clientId: row.client_id })
    }
  }

  get #q (): ReturnType<typeof statements> {
    if (!this.#sql) throw new Error('the session store is not open')
    return this.#sql
  }

  async storeRetained (packet: StoredPacket): Promise<void> {
    if (packet.payload.length === 0) this.#q.deleteRetained.run(packet.topic)
    else this.#q.putRetained.run(packet.topic, encode(packet))
  }

  createRetainedStream (pattern: string): Readable {
    return this.createRetainedStreamCombi([pattern])
  }

  /** The retained messages matching any of the patterns, each once, read when the stream is made. */
  createRetainedStreamCombi (patterns: string[]): Readable {
    const exact = patterns.every((p) => !/[+#]/.test(p))
    const rows = exact
      ? patterns.flatMap((p) => this.#q.retainedByTopic.all(p))
      : this.#q.allRetained.all()
    const matcher = new QlobberTrue(QLOBBER_OPTIONS)
    for (const p of patterns) matcher.add(p)
    return Readable.from(rows.filter((r) => exact || matcher.test(r.topic)).map((r) => decode<StoredPacket>(r.packet)))
  }

  async addSubscriptions (client: Client, subs: Subscription[]): Promise<void> {
    const q = this.#q
    q.tx(() => {
      for (const sub of subs) {
        const { clientId: _clientId, ...record } = sub
        const before = q.subscription.get(client.id, sub.topic)
        if (before && before.qos > 0) this.#trie.remove(sub.topic, { clientId: client.id, topic: sub.topic })
        q.putSubscription.run(client.id, sub.topic, sub.qos, encode(record))
        if (sub.qos > 0) this.#trie.add(sub.topic, { ...record, clientId: client.id })
      }
    })
  }

  async removeSubscriptions (client: Client, topics: string[]): Promise<void> {
    const q = this.#q
    q.tx(() => {
      for (const topic of topics) {
        const before = q.subscription.get(client.id, topic)
        if (!before) continue
        if (before.qos > 0) this.#trie.remove(topic, { clientId: client.id, topic })
        q.deleteSubscription.run(client.id, topic)
      }
    })
  }

  async subscriptionsByClient (client: Client): Promise<Subscription[]> {
    return this.#q.subscriptionsOf.all(client.id).map((r) => decode<Subscription>(r.sub))
  }

  async countOffline (): Promise<{ subsCount: number, clientsCount: number }> {
    return { subsCount: this.#trie.subscriptionsCount, clientsCount: this.#q.clientsCount.get()!.n }
  }

  async subscriptionsByTopic (topic: string): Promise<(Subscription & { clientId: string })[]> {
    return this.#trie.match(topic)
  }

  async cleanSubscriptions (client: Client): Promise<void> {
    await this.removeSubscriptions(client, this.#q.subscriptionsOf.all(client.id).map((r) => r.topic))
  }

  /** Every persistent session's shared subscriptions (`$share/<group>/<filter>`), for aedes to rejoin at start. */
  sharedSubscriptions (): { clientId: string, topic: string, qos: number }[] {
    return this.#q.sharedSubscriptions.all().map((r) => ({ clientId: r.client_id, topic: r.topic, qos: r.qos }))
  }

  async outgoingEnqueue (sub: { clientId: string }, packet: StoredPacket): Promise<void> {
    this.#enqueue(sub.clientId, packet)
  }

  async outgoingEnqueueCombi (subs: { clientId: string }[], packet: StoredPacket): Promise<void> {
    if (!subs || subs.length === 0) return
    this.#q.tx(() => { for (const sub of subs) this.#enqueue(sub.clientId, packet) })
  }

  #enqueue (clientId: string, packet: StoredPacket): void {
    const queued = new Packet(packet)
    this.#q.enqueue.run(clientId, queued.brokerId ?? null, queued.brokerCounter ?? null, encode(queued))
  }

  /**
   * A queued PUBLISH gets the packet id it is sent with (found by its broker id and counter); a
   * PUBREL takes the place of the PUBLISH with its packet id (it has no broker id).
   */
  async outgoingUpdate (client: Client, packet: StoredPacket): Promise<void> {
    const q = this.#q
    q.tx(() => {
      const row = packet.brokerId
        ? q.queuedByCounter.get(client.id, packet.brokerId, packet.brokerCounter ?? null)
        : q.queuedByMessage.get(client.id, packet.messageId ?? null)
      if (!row) throw new Error('no such packet')
      if (packet.messageId !== undefined) q.releaseMessageId.run(client.id, packet.messageId, row.seq)
      const updated = packet.brokerId ? { ...decode<StoredPacket>(row.packet), messageId: packet.messageId } : packet
      q.updateQueued.run(packet.messageId ?? null, encode(updated), row.seq)
    })
  }

  async outgoingClearMessageId (client: Client, packet: { messageId?: number }): Promise<StoredPacket | undefined> {
    // Every PUBACK comes here, a clean session's too, which has nothing queued: a read first.
    const row = this.#q.queuedByMessage.get(client.id, packet.messageId ?? null)
    if (!row) return undefined
    this.#q.deleteQueued.run(row.seq)
    return decode<StoredPacket>(row.packet)
  }

  /** The client's queue as it is when the stream is made. */
  outgoingStream (client: Client): Readable {
    return Readable.from(this.#q.queueOf.all(client.id).map((r) => decode<StoredPacket>(r.packet)))
  }

  async incomingStorePacket (client: Client, packet: StoredPacket): Promise<void> {
    const stored = new Packet(packet)
    stored.messageId = packet.messageId
    this.#q.putIncoming.run(client.id, packet.messageId, encode(stored))
  }

  async incomingGetPacket (client: Client, packet: { messageId?: number }): Promise<StoredPacket> {
    const row = this.#q.incoming.get(client.id, packet.messageId ?? null)
    if (!row) throw new Error('no such packet')
    return decode<StoredPacket>(row.packet)
  }

  async incomingDelPacket (client: Client, packet: { messageId?: number }): Promise<void> {
    if (this.#q.deleteIncoming.run(client.id, packet.messageId ?? null).changes === 0) throw new Error('no such packet')
  }

  async cleanIncoming (client: Client): Promise<void> {
    this.#q.cleanIncoming.run(client.id)
  }

  async putWill (client: Client, packet: StoredPacket): Promise<void> {
    packet.brokerId = this.#broker?.id
    packet.clientId = client.id
    this.#q.putWill.run(client.id, packet.brokerId ?? null, encode(packet))
  }

  async getWill (client: Client): Promise<StoredPacket | undefined> {
    const row = this.#q.will.get(client.id)
    return row ? decode<StoredPacket>(row.packet) : undefined
  }

  async delWill (client: Client): Promise<StoredPacket | undefined> {
    const q = this.#q
    return q.tx(() => {
      const row = q.will.get(client.id)
      if (!row) return undefined
      q.deleteWill.run(client.id)
      return decode<StoredPacket>(row.packet)
    })
  }

  /** The wills of the brokers not in `brokers` (those not heard from). */
  streamWill (brokers: Record<string, unknown> = {}): Readable {
    return Readable.from(this.#q.allWills.all().filter((r) => !brokers[r.broker_id ?? '']).map((r) => decode<StoredPacket>(r.packet)))
  }

  getClientList (topic: string): Readable {
    return Readable.from(this.#q.clientsOfTopic.all(topic).map((r) => r.client_id))
  }

  /** Closes the database; the store cannot be used after. */
  async destroy (): Promise<void> {
    this.#sql = null
    this.#db?.close()
    this.#db = null
  }
}

interface Row { packet: Buffer }
function statements (db: Database.Database) {
  return {
    tx: transactionRunner(db),
    putRetained: db.prepare<[string, Buffer]>('INSERT OR REPLACE INTO retained (topic, packet) VALUES (?, ?)'),
    deleteRetained: db.prepare<[string]>('DELETE FROM retained WHERE topic = ?'),
    retainedByTopic: db.prepare<[string], Row & { topic: string }>('SELECT topic, packet FROM retained WHERE topic = ?'),
    allRetained: db.prepare<[], Row & { topic: string }>('SELECT topic, packet FROM retained'),
    allSubscriptions: db.prepare<[], { client_id: string, topic: string, qos: number, sub: Buffer }>('SELECT client_id, topic, qos, sub FROM subscriptions'),
    subscription: db.prepare<[string, string], { qos: number }>('SELECT qos FROM subscriptions WHERE client_id = ? AND topic = ?'),
    putSubscription: db.prepare<[string, string, number, Buffer]>('INSERT INTO subscriptions (client_id, topic, qos, sub) VALUES (?, ?, ?, ?) ON CONFLICT (client_id, topic) DO UPDATE SET qos = excluded.qos, sub = excluded.sub'),
    deleteSubscription: db.prepare<[string, string]>('DELETE FROM subscriptions WHERE client_id = ? AND topic = ?'),
    subscriptionsOf: db.prepare<[string], { topic: string, sub: Buffer }>('SELECT topic, sub FROM subscriptions WHERE client_id = ? ORDER BY rowid'),
    sharedSubscriptions: db.prepare<[], { client_id: string, topic: string, qos: number }>("SELECT client_id, topic, qos FROM subscriptions WHERE topic LIKE '$share/%'"),
    clientsCount: db.prepare<[], { n: number }>('SELECT COUNT(DISTINCT client_id) AS n FROM subscriptions'),
    clientsOfTopic: db.prepare<[string], { client_id: string }>('SELECT client_id FROM subscriptions WHERE topic = ?'),
    enqueue: db.prepare<[string, string | null, number | null, Buffer]>('INSERT INTO outgoing (client_id, broker_id, broker_counter, packet) VALUES (?, ?, ?, ?)'),
    queuedByCounter: db.prepare<[string, string, number | null], Row & { seq: number }>('SELECT seq, packet FROM outgoing WHERE client_id = ? AND broker_id = ? AND broker_counter IS ?'),
    queuedByMessage: db.prepare<[string, number | null], Row & { seq: number }>('SELECT seq, packet FROM outgoing WHERE client_id = ? AND message_id = ? ORDER BY seq LIMIT 1'),
    // A packet id names one message of a session's queue at a time.
    releaseMessageId: db.prepare<[string, number, number]>('UPDATE outgoing SET message_id = NULL WHERE client_id = ? AND message_id = ? AND seq <> ?'),
    updateQueued: db.prepare<[number | null, Buffer, number]>('UPDATE outgoing SET message_id = ?, packet = ? WHERE seq = ?'),
    deleteQueued: db.prepare<[number]>('DELETE FROM outgoing WHERE seq = ?'),
    queueOf: db.prepare<[string], Row>('SELECT packet FROM outgoing WHERE client_id = ? ORDER BY seq'),
    putIncoming: db.prepare<[string, number | undefined, Buffer]>('INSERT OR REPLACE INTO incoming (client_id, message_id, packet) VALUES (?, ?, ?)'),
    incoming: db.prepare<[string, number | null], Row>('SELECT packet FROM incoming WHERE client_id = ? AND message_id = ?'),
    deleteIncoming: db.prepare<[string, number | null]>('DELETE FROM incoming WHERE client_id = ? AND message_id = ?'),
    cleanIncoming: db.prepare<[string]>('DELETE FROM incoming WHERE client_id = ?'),
    putWill: db.prepare<[string, string | null, Buffer]>('INSERT OR REPLACE INTO wills (client_id, broker_id, packet) VALUES (?, ?, ?)'),
    will: db.prepare<[string], Row>('SELECT packet FROM wills WHERE client_id = ?'),
    deleteWill: db.prepare<[string]>('DELETE FROM wills WHERE client_id = ?'),
    allWills: db.prepare<[], Row & { broker_id: string | null }>('SELECT broker_id, packet FROM wills')
  }
}

/** Runs a function in one (immediate) transaction; the transaction wrapper is made once. */
function transactionRunner (db: Database.Database): <T>(fn: () => T) => T {
  const run = db.transaction((fn: () => unknown) => fn())
  return <T>(fn: () => T): T => run.immediate(fn) as T
}
