// johnny-five ships no types; this is the little of its Board that the devices use.
declare module 'johnny-five' {
  import type { EventEmitter } from 'node:events'
  export interface BoardOptions {
    port?: string
    io?: unknown
    repl?: boolean
    debug?: boolean
    sigint?: boolean
    timeout?: number
  }
  export class Board extends EventEmitter {
    constructor (opts: BoardOptions)
    io: unknown
  }
  const five: { Board: typeof Board }
  export default five
}
