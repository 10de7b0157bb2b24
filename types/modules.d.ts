// Declarations for dependencies that ship no types.
declare module 'aedes-persistence-level/asyncPersistence.js' {
  import type { AbstractLevel } from 'abstract-level'
  import type { Readable } from 'node:stream'
  /** The async (aedes 2) LevelDB persistence; only the methods homefacts overrides are typed. */
  export default class AsyncLevelPersistence {
    constructor (db: AbstractLevel<any, any, any>)
    storeRetained (packet: { topic: string, payload: Buffer, [field: string]: unknown }): Promise<void>
    createRetainedStreamCombi (patterns: string[]): Readable
    createRetainedStream (pattern: string): Readable
    outgoingEnqueue (sub: object, packet: object): Promise<void>
    outgoingEnqueueCombi (subs: object[], packet: object): Promise<unknown>
    outgoingUpdate (client: object, packet: object): Promise<void>
    outgoingClearMessageId (client: object, packet: object): Promise<unknown>
    outgoingStream (client: object): Readable
    subscriptionsByClient (client: { id: string }): Promise<object[]>
  }
}
declare module 'aedes-stats' {
  import type { Aedes } from 'aedes'
  /** Publishes uptime, clients, messages and memory under `$SYS/<brokerId>/`. */
  export default function stats (aedes: Aedes, opts?: { interval?: number }): void
}
