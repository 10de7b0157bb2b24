import type { AedesOptions, Client } from 'aedes'
import type { Logger } from 'pino'
import type { BrokerConfig } from './config.ts'

export type Limits = BrokerConfig['limits']

/**
 * Per-client publish rate: a token bucket of `publishBurst` tokens, refilled at `publishesPerSecond`.
 * Refusals in a row are counted, so a client that keeps on for a whole burst can be disconnected.
 */
export class PublishRate {
  readonly #rate: number
  /** Publishes a client may send at once (`limits.publishBurst`). */
  readonly burst: number
  readonly #buckets = new WeakMap<Client, { tokens: number, at: number, refused: number }>()
  readonly #now: () => number

  constructor (limits: Pick<Limits, 'publishesPerSecond' | 'publishBurst'>, now: () => number = performance.now.bind(performance)) {
    this.#rate = limits.publishesPerSecond
    this.burst = limits.publishBurst
    this.#now = now
  }

  /** Takes a token for one publish: 0 when it may go on, else how many were refused in a row, this one included. */
  take (client: Client): number {
    const now = this.#now()
    const bucket = this.#buckets.get(client)
    if (!bucket) {
      this.#buckets.set(client, { tokens: this.burst - 1, at: now, refused: 0 })
      return 0
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.#rate / 1000)
    bucket.at = now
    if (bucket.tokens < 1) return ++bucket.refused
    bucket.tokens -= 1
    bucket.refused = 0
    return 0
  }
}

/** Live connections per user name, each counted once per client id until its socket closes. */
export class ConnectionsPerUser {
  readonly #max: number
  readonly #live = new Map<string, Map<string, Client>>()

  constructor (max: number) {
    this.#max = max
  }

  /** Counts `client` for `username`; false past the limit. A client id already held is a takeover, not one more. */
  admit (username: string, client: Client): boolean {
    let clients = this.#live.get(username)
    if (!clients) this.#live.set(username, clients = new Map())
    if (!clients.has(client.id) && clients.size >= this.#max) return false
    clients.set(client.id, client)
    client.conn.once('close', () => {
      if (clients.get(client.id) !== client) return
      clients.delete(client.id)
      if (clients.size === 0 && this.#live.get(username) === clients) this.#live.delete(username)
    })
    return true
  }
}

type AuthorizeForward = NonNullable<AedesOptions['authorizeForward']>

/**
 * The live queue bound (`limits.liveQueueBytes`), as aedes's `authorizeForward` hook. Past it, a
 * QoS 0 message is dropped and the client disconnected once, to reconnect and read the retained
 * state again. QoS 1/2 is never dropped: a persistent session's copy stays in the store.
 */
export function boundLiveQueue (limits: Pick<Limits, 'liveQueueBytes'>, log: Logger, counters: { slowDisconnects: number, droppedQos0: number }): AuthorizeForward {
  const slow = new WeakSet<Client>()
  return (client, packet) => {
    const waiting = (client.conn as { writableLength?: number }).writableLength ?? 0
    if (waiting <= limits.liveQueueBytes) return packet
    if (!slow.has(client)) {
      slow.add(client)
      counters.slowDisconnects++
      log.warn({ clientId: client.id, waitingBytes: waiting, limit: limits.liveQueueBytes }, 'slow subscriber: live queue past limits.liveQueueBytes; QoS 0 messages to it dropped, disconnecting it')
      setImmediate(() => client.close())
    }
    if (packet.qos > 0) return packet
    counters.droppedQos0++
    return null
  }
}
