// Declarations for dependencies that ship no types.
declare module 'aedes-persistence-level/asyncPersistence.js' {
  import type { AbstractLevel } from 'abstract-level'
  import type { Readable } from 'node:stream'
  /** The async (aedes 2) LevelDB persistence. */
  export default class AsyncLevelPersistence {
    constructor (db: AbstractLevel<any, any, any>)
    storeRetained (packet: { topic: string, payload: Buffer }): Promise<void>
    createRetainedStreamCombi (patterns: string[]): Readable
    createRetainedStream (pattern: string): Readable
    outgoingClearMessageId (client: object, packet: object): Promise<unknown>
  }
}
declare module 'aedes-stats' {
  import type { Aedes } from 'aedes'
  /** Publishes uptime, clients, messages and memory under `$SYS/<brokerId>/`. */
  export default function stats (aedes: Aedes, opts?: { interval?: number }): void
}
