import { once } from 'node:events'
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { coalesceWrites } from '../../broker/listeners.ts'

/** What the socket hands to the system: one entry per call of `_write` / `_writev`, with its chunks. */
function recordSends (socket: Socket): string[][] {
  const sends: string[][] = []
  const s = socket as Socket & { _write: Function, _writev: Function }
  const write = s._write.bind(s)
  const writev = s._writev.bind(s)
  s._write = (chunk: Buffer, encoding: BufferEncoding, cb: () => void) => { sends.push([chunk.toString()]); write(chunk, encoding, cb) }
  s._writev = (chunks: { chunk: Buffer }[], cb: () => void) => { sends.push(chunks.map((c) => c.chunk.toString())); writev(chunks, cb) }
  return sends
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('coalesceWrites', () => {
  let server: Server
  let client: Socket
  let conn: Socket
  let received: string
  beforeEach(async () => {
    server = createServer()
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    client = createConnection((server.address() as AddressInfo).port, '127.0.0.1')
    const [accepted] = await once(server, 'connection') as [Socket]
    conn = accepted
    coalesceWrites(conn)
    received = ''
    client.on('data', (d: Buffer) => { received += d.toString() })
  })
  afterEach(async () => {
    client.destroy()
    conn.destroy()
    server.close()
    await once(server, 'close')
  })

  it('hands the writes of one turn to the system at once, and those of the next turn apart', async () => {
    const sends = recordSends(conn)
    conn.write('a')
    conn.write('b')
    // mqtt-packet's own cork for one tick, inside the turn's, as aedes writes a packet.
    conn.cork()
    conn.write('c')
    process.nextTick(() => conn.uncork())
    expect(sends).toStrictEqual([])
    await turn()
    conn.write('d')
    await turn()
    expect(sends).toStrictEqual([['a', 'b', 'c'], ['d']])
    while (received.length < 4) await once(client, 'data')
    expect(received).toBe('abcd')
  })

  it('sends what was written before an end in the same turn, then ends', async () => {
    conn.write('last words')
    conn.end()
    await once(client, 'end')
    expect(received).toBe('last words')
  })
})
