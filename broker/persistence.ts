import { Readable } from 'node:stream'
import type { Level } from 'level'
import LevelPersistence from 'aedes-persistence-level/asyncPersistence.js'

interface Packet { topic: string, payload: Buffer, [field: string]: unknown }
interface Sub { clientId: string }
/** A retained PUBLISH as the publish hook sees it. */
export interface RetainedPublish { topic: string, payload: Buffer | string, qos: number, properties?: object | undefined }

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
 * publish path (`storeRetained`, `outgoingEnqueueCombi`) are acknowledged at once, so publishes
 * go out in counter order; the writes that later depend on them (`outgoingUpdate`, the ack's
 * clear) wait their turn in the same queue, and every read of stored messages waits for the queue.
 * As before, the store is written after the publisher's PUBACK (aedes 2 acknowledges first).
 */
export class HubPersistence extends LevelPersistence {
  #queue: Promise<unknown> = Promise.resolve()
  /** Payloads of retained publishes the hook already stored. */
  #storedEarly = new WeakSet<Buffer>()
  #onError: (err: Error) => void

  constructor (db: Level, onError: (err: Error) => void) {
    super(db)
    this.#onError = onError
  }

  /** Runs `write` after every write queued before it; its result (or error) goes to the caller. */
  #enqueue<T> (write: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(write)
    this.#queue = run.catch(() => {})
    return run
  }

  /** Queues a write nobody waits for; a failure is reported, never thrown into aedes. */
  #enqueueDetached (write: () => Promise<unknown>): Promise<void> {
    this.#enqueue(write).catch(this.#onError)
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
    // The fields aedes reads back when it sends a retained message to a new subscriber.
    const stored = { cmd: 'publish', topic: packet.topic, payload, qos: packet.qos, retain: true, ...(packet.properties ? { properties: packet.properties } : {}) }
    return this.#enqueue(() => super.storeRetained(stored))
  }

  override storeRetained (packet: Packet): Promise<void> {
    if (this.#storedEarly.delete(packet.payload)) return Promise.resolve()
    return this.#enqueueDetached(() => super.storeRetained(packet))
  }

  override outgoingEnqueueCombi (subs: Sub[], packet: Packet): Promise<unknown> {
    if (!subs || subs.length === 0) return Promise.resolve(packet)
    // Not super.outgoingEnqueueCombi: it calls this.outgoingEnqueue, which would queue behind itself.
    return this.#enqueueDetached(() => Promise.all(subs.map((sub) => super.outgoingEnqueue(sub, packet))))
  }

  override outgoingEnqueue (sub: Sub, packet: Packet): Promise<void> {
    return this.#enqueue(() => super.outgoingEnqueue(sub, packet))
  }

  override outgoingUpdate (client: object, packet: object): Promise<void> {
    return this.#enqueue(() => super.outgoingUpdate(client, packet))
  }

  /**
   * A PUBACK from a clean session clears nothing: aedes never stores a clean session's in-flight
   * messages (they are not resumed), so skip the LevelDB read that would find nothing, on every ack.
   */
  override outgoingClearMessageId (client: { clean?: boolean }, packet: object): Promise<unknown> {
    if (client.clean === true) return Promise.resolve(undefined)
    return this.#enqueue(() => super.outgoingClearMessageId(client, packet))
  }

  override outgoingStream (client: object): Readable {
    return this.#afterQueue(() => super.outgoingStream(client))
  }

  override createRetainedStreamCombi (patterns: string[]): Readable {
    return this.#afterQueue(() => super.createRetainedStreamCombi(patterns))
  }

  override createRetainedStream (pattern: string): Readable {
    return this.createRetainedStreamCombi([pattern])
  }

  /** Resolves when every queued write is on disk. */
  async flush (): Promise<void> {
    await this.#queue
  }
}
