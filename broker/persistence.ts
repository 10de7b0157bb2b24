import { Readable } from 'node:stream'
import type { Level } from 'level'
import LevelPersistence from 'aedes-persistence-level/asyncPersistence.js'

interface RetainedPacket { topic: string, payload: Buffer }

/**
 * aedes-persistence-level with retained writes that never hold up delivery.
 *
 * aedes runs `storeRetained` before it emits a publish, and drops any packet whose broker counter
 * is lower than the last one a subscriber saw (its cluster dedupe). A LevelDB write takes a
 * turn of I/O, so a retained publish is overtaken by the plain publish behind it and then
 * dropped as a "duplicate": live subscribers never see it (aedes 2.0.0-beta.1 with
 * aedes-persistence-level 9.2; in-memory persistence resolves at once and is not affected).
 *
 * Here the write is queued in arrival order and acknowledged at once, so publishes are emitted
 * in order. Reads of retained messages wait for the queue, so a new subscriber never gets an
 * older value than the one last published.
 */
export class HubPersistence extends LevelPersistence {
  #writes: Promise<void> = Promise.resolve()
  #onError: (err: Error) => void

  constructor (db: Level, onError: (err: Error) => void) {
    super(db)
    this.#onError = onError
  }

  override storeRetained (packet: RetainedPacket): Promise<void> {
    this.#writes = this.#writes.then(() => super.storeRetained(packet)).catch(this.#onError)
    return Promise.resolve()
  }

  override createRetainedStreamCombi (patterns: string[]): Readable {
    const writes = this.#writes
    const read = (): Readable => super.createRetainedStreamCombi(patterns)
    return Readable.from((async function * () {
      await writes
      yield * read()
    })())
  }

  override createRetainedStream (pattern: string): Readable {
    return this.createRetainedStreamCombi([pattern])
  }

  /**
   * A PUBACK from a clean session clears nothing: aedes never stores a clean session's in-flight
   * messages (they are not resumed), so skip the LevelDB read that would find nothing, on every ack.
   */
  override outgoingClearMessageId (client: { clean?: boolean }, packet: object): Promise<unknown> {
    if (client.clean === true) return Promise.resolve(undefined)
    return super.outgoingClearMessageId(client, packet)
  }

  /** Resolves when every queued retained write is on disk. */
  flush (): Promise<void> {
    return this.#writes
  }
}
