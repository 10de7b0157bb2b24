import { Readable } from 'node:stream'
import type { Level } from 'level'
import LevelPersistence from 'aedes-persistence-level/asyncPersistence.js'
import { InOrder } from './in-order.ts'

interface Packet { topic: string, payload: Buffer, [field: string]: unknown }
interface Sub { clientId: string }
/** What `outgoingStream` reads of an aedes client. */
interface StreamClient { id: string, clean?: boolean, _cleanStart?: boolean, broker?: { clients: Record<string, unknown> } }
/** A retained PUBLISH as the publish hook sees it. */
export interface RetainedPublish { topic: string, payload: Buffer | string, qos: number, properties?: { messageExpiryInterval?: number } | undefined }

/**
 * aedes-persistence-level whose writes on the publish path never reorder deliveries.
 *
 * aedes stamps each publish with a broker counter, then stores it (retained, or queued for
 * offline persistent sessions) and only then hands it to subscribers; each subscriber drops any
 * packet whose counter is lower than the last one it got (aedes's cluster dedupe). A LevelDB
 * write takes a turn of I/O, so a publish that must be stored is overtaken by one that need not
 * be, and then silently dropped by every subscriber that sees both (aedes 2.0.0-beta.1 with
 * aedes-persistence-level 9.2; the in-memory store answers at once and is not affected).
 *
 * Here every write to the store runs in one queue, in arrival order. The two writes on the
 * publish path (`storeRetained`, `outgoingEnqueueCombi`) are answered at once, so publishes
 * go out in counter order; the writes that later depend on them (`outgoingUpdate`, the ack's
 * clear) wait their turn in the same queue, and every read of stored messages waits for the queue.
 *
 * A PUBACK is a promise (issue 9): the broker's `published` hook is `published` below, which
 * calls back once the publish's own writes (its retained copy, its copies queued for persistent
 * sessions) are done, and so every write queued before them; aedes is patched (patches/aedes+*.patch) to send a QoS 1 PUBACK only after
 * that. "Done" is LevelDB's write returning: the record is in its log, in the OS's page cache,
 * which a `kill -9` of the hub cannot lose; a power cut can lose what the OS had not yet written
 * back, and LevelDB then reopens at its last whole log record (docs: README "Durability").
 */
export class HubPersistence extends LevelPersistence {
  /** The tail of the write queue. */
  #queue: Promise<null> = Promise.resolve(null)
  /** Payloads of retained publishes the hook already stored. */
  #storedEarly = new WeakSet<Buffer>()
  #onError: (err: Error) => void
  /**
   * The last write of a publish on the publish path, by its payload buffer (aedes hands the
   * store its own copy of the packet, with the same payload). Payloads that are one shared
   * buffer find the latest write made for any of them, which is done after their own (FIFO).
   */
  #writes = new WeakMap<Buffer, Promise<Error | null>>()
  /** `published` calls back in arrival order, so PUBACKs keep the order of their PUBLISHes [MQTT-4.6.0-2]. */
  #published = new InOrder<Error>((err) => this.#onError(err as Error))
  readonly #db: Level

  constructor (db: Level, onError: (err: Error) => void) {
    super(db)
    this.#db = db
    this.#onError = onError
  }

  /**
   * The aedes `published` hook: calls back once the QoS 1 publish is stored (retained) and queued
   * for every persistent session it matches. A publish with nothing to store waits for nothing
   * but the PUBACKs ahead of it. A failed write fails the publish, and patched aedes then sends
   * no PUBACK.
   */
  readonly published = (packet: { qos?: number, payload?: Buffer | string }, _client: object | null, done: (err?: Error | null) => void): void => {
    // QoS 0 has no PUBACK to hold back, and its publisher's next packets should not wait on disk.
    if (!packet.qos) return done()
    // A text payload cannot be looked up: wait for every write queued so far instead.
    const written = typeof packet.payload === 'string' ? this.#queue : packet.payload && this.#writes.get(packet.payload)
    if (!written) return this.#published.now(done)
    void written.then(this.#published.take(done))
  }

  /** Runs `write` after every write queued before it; its result (or error) goes to the caller. */
  #enqueue<T> (write: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(write)
    this.#queue = run.then(() => null, () => null)
    return run
  }

  /**
   * Queues a write of the publish path, answered at once (see above); `published` waits for it
   * through its payload. A failure is reported, and fails that publish, never thrown into aedes.
   */
  #enqueueDetached (payload: Buffer | string, write: () => Promise<unknown>): Promise<void> {
    const written = this.#enqueue(write).then(() => null, (err: Error) => {
      this.#onError(err)
      return err
    })
    if (typeof payload !== 'string') this.#writes.set(payload, written)
    return Promise.resolve()
  }

  #afterQueue (read: () => Readable): Readable {
    const queued = this.#queue
    return Readable.from((async function * () {
      await queued
      yield * read()
    })())
  }

  /**
   * Stores a retained publish now, in queue order, and resolves once it is on disk. The publish
   * hook calls it before the PUBACK; aedes's own `storeRetained` for the same publish (it carries
   * the same payload buffer) is then skipped.
   */
  storeRetainedNow (packet: RetainedPublish): Promise<void> {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
    if (typeof packet.payload !== 'string') this.#storedEarly.add(payload)
    // The fields aedes reads back when it sends a retained message to a new subscriber; aedes
    // stamps `messageExpiry` only after this hook, so it is stamped here the same way.
    const interval = packet.properties?.messageExpiryInterval
    const stored = {
      cmd: 'publish',
      topic: packet.topic,
      payload,
      qos: packet.qos,
      retain: true,
      ...(packet.properties ? { properties: packet.properties } : {}),
      ...(interval ? { messageExpiry: Date.now() + interval * 1000 } : {})
    }
    return this.#enqueue(() => super.storeRetained(stored))
  }

  override storeRetained (packet: Packet): Promise<void> {
    if (this.#storedEarly.delete(packet.payload)) return Promise.resolve()
    return this.#enqueueDetached(packet.payload, () => super.storeRetained(packet))
  }

  override outgoingEnqueueCombi (subs: Sub[], packet: Packet): Promise<unknown> {
    if (!subs || subs.length === 0) return Promise.resolve(packet)
    // Not super.outgoingEnqueueCombi: it calls this.outgoingEnqueue, which would queue behind itself.
    return this.#enqueueDetached(packet.payload, () => Promise.all(subs.map((sub) => super.outgoingEnqueue(sub, packet))))
  }

  override outgoingEnqueue (sub: Sub, packet: Packet): Promise<void> {
    return this.#enqueue(() => super.outgoingEnqueue(sub, packet))
  }

  override outgoingUpdate (client: object, packet: object): Promise<void> {
    return this.#enqueue(() => super.outgoingUpdate(client, packet))
  }

  /**
   * A PUBACK from a clean session clears nothing: aedes never stores a clean session's in-flight
   * messages, so the LevelDB read that would find nothing is skipped, on every ack.
   */
  override outgoingClearMessageId (client: { clean?: boolean }, packet: object): Promise<unknown> {
    if (client.clean === true) return Promise.resolve(undefined)
    return this.#enqueue(() => super.outgoingClearMessageId(client, packet))
  }

  /**
   * A session that starts clean (3.1.1 `clean: true`, 5 Clean Start 1) discards the stored one
   * [MQTT-3.1.2-4], [MQTT-3.1.2-6]. aedes streams the old queue and clears it message by message,
   * by message id, which clears nothing here (above) and, were it to run, races the next
   * connection with the same client id, whose ids start again at 1. So the queue is deleted
   * whole, in queue order, while this connection is the client id's current one, and aedes is
   * handed nothing to clear.
   */
  override outgoingStream (client: StreamClient): Readable {
    if (client.clean !== true && client._cleanStart !== true) return this.#afterQueue(() => super.outgoingStream(client))
    if (client.broker?.clients[client.id] !== client) return Readable.from([])
    const dropped = this.#enqueue(() => this.#dropQueue(client.id))
    return Readable.from((async function * () { await dropped })())
  }

  /** Deletes a client id's stored outgoing queue: its messages and their message-id index. */
  async #dropQueue (clientId: string): Promise<void> {
    const id = encodeURIComponent(clientId)
    // aedes-persistence-level's key layout: `outgoing:<id>:...` and `outgoing-id:<id>:...`.
    for (const prefix of [`outgoing:${id}:`, `outgoing-id:${id}:`]) {
      await this.#db.clear({ gte: prefix, lt: `${prefix.slice(0, -1)};` })
    }
  }

  override createRetainedStreamCombi (patterns: string[]): Readable {
    return this.#afterQueue(() => super.createRetainedStreamCombi(patterns))
  }

  override createRetainedStream (pattern: string): Readable {
    return this.createRetainedStreamCombi([pattern])
  }

  /**
   * Every persistent session's shared subscriptions (`$share/<group>/<filter>`), for aedes to
   * rejoin at start. aedes-persistence-level keys a subscription as
   * `subscriptions:<encoded client id>:<filter>`; the QoS is read through its own API.
   */
  async sharedSubscriptions (): Promise<{ clientId: string, topic: string, qos: number }[]> {
    const prefix = 'subscriptions:'
    const clients = new Set<string>()
    for await (const key of this.#db.keys({ gte: prefix, lt: 'subscriptions;' })) {
      const sep = key.indexOf(':', prefix.length)
      if (key.startsWith('$share/', sep + 1)) clients.add(decodeURIComponent(key.slice(prefix.length, sep)))
    }
    const found: { clientId: string, topic: string, qos: number }[] = []
    for (const clientId of clients) {
      const subs = await this.subscriptionsByClient({ id: clientId }) as { topic: string, qos: number }[]
      for (const { topic, qos } of subs) if (topic.startsWith('$share/')) found.push({ clientId, topic, qos })
    }
    return found
  }

  /** Resolves when every queued write is on disk. */
  async flush (): Promise<void> {
    await this.#queue
  }
}
