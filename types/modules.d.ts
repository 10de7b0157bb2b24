// Declarations for dependencies that ship no types.
declare module 'qlobber' {
  /** A set of topic filters, for testing whether a topic matches any of them. */
  export class QlobberTrue {
    constructor (options: object)
    add (filter: string): this
    test (topic: string): boolean
  }
}
declare module 'qlobber/aedes/qlobber-sub.js' {
  /** aedes's subscription trie: subscriptions by filter, matched against a topic. */
  export default class QlobberSub<T extends { clientId: string, topic: string }> {
    constructor (options: object)
    add (filter: string, sub: T): void
    remove (filter: string, sub: Pick<T, 'clientId' | 'topic'>): void
    match (topic: string): T[]
    readonly subscriptionsCount: number
  }
}
declare module 'aedes-persistence/asyncPersistence.js' {
  import type { Readable } from 'node:stream'
  type Packet = { topic: string, payload: Buffer, qos: number, [field: string]: unknown }
  type Client = { id: string }
  /** aedes-persistence's in-memory store (its async API); the tests on plain aedes extend it. */
  export default class AsyncMemory {
    constructor (opts?: object)
    setup (broker: object): Promise<void>
    storeRetained (packet: Packet): Promise<void>
    createRetainedStreamCombi (patterns: string[]): Readable
    subscriptionsByClient (client: Client): Promise<object[]>
    cleanSubscriptions (client: Client): Promise<void>
    outgoingEnqueueCombi (subs: { clientId: string }[], packet: Packet): Promise<void>
    outgoingUpdate (client: Client, packet: Packet): Promise<void>
    outgoingStream (client: Client): Readable
    incomingStorePacket (client: Client, packet: Packet): Promise<void>
    cleanIncoming (client: Client): Promise<void>
    destroy (): Promise<void>
  }
}
declare module 'aedes-stats' {
  import type { Aedes } from 'aedes'
  /** Publishes uptime, clients, messages and memory under `$SYS/<brokerId>/`. */
  export default function stats (aedes: Aedes, opts?: { interval?: number }): void
}
