import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net'

/**
 * A TCP proxy in front of a broker that makes it look slow at replaying retained messages.
 *
 * Client → broker bytes pass at once. Broker → client bytes are cut into MQTT control packets
 * (fixed header: type and flags, then the remaining length as a variable byte integer,
 * [MQTT-2.1]); a PUBLISH with the RETAIN flag set, which a broker sends only in answer to a
 * SUBSCRIBE (live messages are forwarded with it cleared, [MQTT-3.3.1-9]), is held back
 * `delayMs` from the moment it arrived, in order. Everything else (CONNACK, SUBACK, PUBACK,
 * queued and live publishes) goes straight through. So a SUBSCRIBE gets its SUBACK at once and
 * its retained messages `delayMs` later: a slow broker.
 */
export interface DelayProxy {
  /** `mqtt://127.0.0.1:<port>` of the proxy. */
  url: string
  /** Retained publishes held back so far. */
  readonly delayed: number
  /** Resolves once `count` held-back publishes have been passed on to their clients. */
  released: (count: number) => Promise<void>
  stop: () => Promise<void>
}

const PUBLISH = 3

export async function startDelayProxy (target: string, delayMs: number): Promise<DelayProxy> {
  const { hostname, port } = new URL(target)
  const sockets = new Set<Socket>()
  let delayed = 0
  let released = 0
  let waiters: { count: number, resolve: () => void }[] = []
  const release = (): void => {
    released++
    waiters = waiters.filter((w) => released < w.count || (w.resolve(), false))
  }
  const server = createServer({ noDelay: true }, (client) => {
    const broker = createConnection({ host: hostname, port: Number(port), noDelay: true })
    sockets.add(client).add(broker)
    const close = (): void => { client.destroy(); broker.destroy() }
    client.on('error', close).on('close', close)
    broker.on('error', close).on('close', close)
    client.pipe(broker)
    let pending = Buffer.alloc(0)
    broker.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      let packet: Buffer | null
      while ((packet = nextPacket()) !== null) {
        const p = packet
        const retained = p[0]! >> 4 === PUBLISH && (p[0]! & 1) === 1
        if (!retained) {
          client.write(p)
          continue
        }
        delayed++
        // Timers of equal delay fire in the order they were set, so held packets keep their order.
        setTimeout(() => {
          if (!client.destroyed) client.write(p)
          release()
        }, delayMs)
      }
    })
    /** Takes one whole packet off `pending`, or returns null while it is incomplete. */
    function nextPacket (): Buffer | null {
      let length = 0
      let multiplier = 1
      for (let i = 1; i <= 4; i++) {
        if (i >= pending.length) return null
        const byte = pending[i]!
        length += (byte & 0x7f) * multiplier
        multiplier *= 128
        if ((byte & 0x80) === 0) {
          const end = i + 1 + length
          if (pending.length < end) return null
          const packet = pending.subarray(0, end)
          pending = pending.subarray(end)
          return packet
        }
      }
      throw new Error('malformed remaining length from the broker')
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get delayed () { return delayed },
    released: (count) => released >= count ? Promise.resolve() : new Promise((resolve) => { waiters.push({ count, resolve }) }),
    stop: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
