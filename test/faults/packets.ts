/**
 * Hand-built MQTT control packets for the fuzz suites, and a seeded generator of hostile ones.
 * Byte layouts follow MQTT 3.1.1 §2-3 and MQTT 5 §2-3.
 */

/** mulberry32: a small seeded PRNG, so a failing run replays from its printed seed. */
export function rng (seed: number): { next: () => number, int: (n: number) => number, bytes: (n: number) => Buffer, pick: <T>(xs: readonly T[]) => T } {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => Math.floor(next() * n)
  return { next, int, bytes: (n) => Buffer.from(Array.from({ length: n }, () => int(256))), pick: (xs) => xs[int(xs.length)]! }
}

/** The remaining length as a variable byte integer [MQTT-2.2.3]. */
export function varint (n: number): Buffer {
  const out: number[] = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return Buffer.from(out)
}

const str = (s: string | Buffer): Buffer => {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s
  const len = Buffer.alloc(2)
  len.writeUInt16BE(b.length)
  return Buffer.concat([len, b])
}

const packet = (first: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([first]), varint(body.length), body])

/** A CONNECT (clean session, keep-alive 60 s), with credentials when given. */
export function connectPacket (opts: { clientId: string | Buffer, username?: string, password?: string, version?: 4 | 5 }): Buffer {
  const version = opts.version ?? 4
  const flags = 0x02 | (opts.username !== undefined ? 0x80 : 0) | (opts.password !== undefined ? 0x40 : 0)
  const body = [str('MQTT'), Buffer.from([version, flags, 0, 60])]
  if (version === 5) body.push(Buffer.from([0]))
  body.push(str(opts.clientId))
  if (opts.username !== undefined) body.push(str(opts.username))
  if (opts.password !== undefined) body.push(str(opts.password))
  return packet(0x10, Buffer.concat(body))
}

/** A PUBLISH with any topic bytes, at QoS 0 or 1. */
export function publishPacket (topic: string | Buffer, payload: Buffer, opts: { qos?: 0 | 1, id?: number, version?: 4 | 5 } = {}): Buffer {
  const qos = opts.qos ?? 0
  const parts = [str(topic)]
  if (qos > 0) parts.push(Buffer.from([(opts.id ?? 1) >> 8, (opts.id ?? 1) & 0xff]))
  if (opts.version === 5) parts.push(Buffer.from([0]))
  parts.push(payload)
  return packet(0x30 | (qos << 1), Buffer.concat(parts))
}

/** A SUBSCRIBE of `filters` at QoS 1 (MQTT 3.1.1). */
export function subscribePacket (id: number, filters: readonly string[]): Buffer {
  return packet(0x82, Buffer.concat([Buffer.from([id >> 8, id & 0xff]), ...filters.map((f) => Buffer.concat([str(f), Buffer.from([1])]))]))
}

/** 2^28 - 1 bytes: the largest remaining length MQTT can state, about 256 MB [MQTT-2.2.3]. */
export const MAX_REMAINING = 268_435_455

/** Kinds of hostile bytes a client sends before (or instead of) a good CONNECT; none needs a login. */
export const PRE_CONNECT = ['random bytes', 'wrong remaining length', 'claimed 256 MB', 'overlong varint', 'mutated CONNECT', 'bad protocol', 'packet before CONNECT', 'invalid UTF-8 client id'] as const
export type PreConnectKind = typeof PRE_CONNECT[number]

/** One hostile byte string of `kind`, drawn from `r`. */
export function hostile (kind: PreConnectKind, r: ReturnType<typeof rng>): Buffer {
  const good = connectPacket({ clientId: `fuzz-${r.int(1e6)}`, version: r.pick([4, 5] as const) })
  switch (kind) {
    case 'random bytes':
      return r.bytes(1 + r.int(300))
    case 'wrong remaining length': {
      // The body a CONNECT says it has, off by a random amount (shorter or longer than sent).
      const body = good.subarray(2)
      const claimed = Math.max(0, body.length + r.pick([-5, -2, -1, 1, 2, 50, 1000, 70_000]))
      return Buffer.concat([Buffer.from([0x10]), varint(claimed), body])
    }
    case 'claimed 256 MB':
      return Buffer.concat([Buffer.from([r.pick([0x10, 0x30, 0x32, 0x82])]), varint(MAX_REMAINING), r.bytes(r.int(2000))])
    case 'overlong varint':
      // Five continuation bytes: a remaining length MQTT does not allow [MQTT-2.2.3].
      return Buffer.concat([Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff]), r.bytes(r.int(20))])
    case 'mutated CONNECT': {
      const b = Buffer.from(good)
      for (let i = 0, n = 1 + r.int(4); i < n; i++) b[2 + r.int(b.length - 2)] = r.int(256)
      return b
    }
    case 'bad protocol': {
      const b = Buffer.from(good)
      // The protocol name's bytes (after its 2-byte length), or its level.
      if (r.next() < 0.5) b.write(r.pick(['MQTX', 'mqtt', 'HTTP', '\0\0\0\0']), 4)
      else b[8] = r.pick([0, 1, 2, 6, 9, 255])
      return b
    }
    case 'packet before CONNECT':
      return r.pick([
        publishPacket('home/kitchen/lily-cup/fact/empty', r.bytes(r.int(100)), { qos: 1 }),
        subscribePacket(1, ['#']),
        Buffer.from([0xc0, 0x00]), // PINGREQ
        Buffer.from([0xe0, 0x00]) // DISCONNECT
      ])
    case 'invalid UTF-8 client id':
      return connectPacket({ clientId: Buffer.from([0x66, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xff]) })
  }
}
