import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { connect as tcpConnect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startHubProcess, type HubProcess } from '../helpers/process.ts'
import { connect, Inbox, publishAck, subscribeCodes } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'
import { rawConnect } from '../helpers/raw-mqtt.ts'
import { connectPacket, hostile, MAX_REMAINING, PRE_CONNECT, publishPacket, rng, varint } from './packets.ts'

// Hostile input: at least 10,000 malformed or adversarial packets at the hub's MQTT
// listeners (TCP and WebSocket), from a seeded generator. Replay a run with HOMEFACTS_FUZZ_SEED=<seed>.

/** The hub's RSS must stay under this during the fuzz; runs on a 2-core machine peaked at 442 to 479 MB. */
const RSS_BOUND_MB = 600
const TCP_PACKETS = 9000
const WS_PACKETS = 1000
const CONCURRENCY = 32
const SLOWLORIS = 100

const seed = Number(process.env.HOMEFACTS_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32))
console.log(`fuzz-mqtt seed: ${seed} (replay with HOMEFACTS_FUZZ_SEED=${seed})`)

let dir: string
let hub: HubProcess
let port: number
let wsUrl: string
let maxRssMb = 0
let sampler: NodeJS.Timeout
let sent = 0

const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024

/** Sends `bytes` on a new connection; resolves 'closed' when the hub closes it, 'open' when it is still open after `ms`. */
function sendRaw (bytes: Buffer, ms = 300): Promise<'closed' | 'open'> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1')
    const timer = setTimeout(() => { s.destroy(); resolve('open') }, ms)
    s.on('error', () => {})
    s.on('close', () => { clearTimeout(timer); resolve('closed') })
    s.on('data', () => {})
    s.write(bytes, () => { sent++ })
  })
}

/** Logs in as the admin over raw TCP, then sends `bytes` after CONNACK; resolves 'closed' or 'open' as `sendRaw`. */
function afterLogin (clientId: string, bytes: Buffer, ms = 500): Promise<'closed' | 'open'> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect(port, '127.0.0.1')
    let timer: NodeJS.Timeout | undefined
    s.on('error', () => {})
    s.on('close', () => { clearTimeout(timer); resolve('closed') })
    s.once('data', (d: Buffer) => {
      if (d[0] !== 0x20 || d[3] !== 0) return reject(new Error(`no CONNACK 0: ${d.toString('hex')}`))
      s.write(bytes, () => { sent++ })
      timer = setTimeout(() => { s.destroy(); resolve('open') }, ms)
    })
    s.write(connectPacket({ clientId, username: hub.admin.username, password: hub.admin.password }))
  })
}

/** Runs `jobs` with at most `n` at a time. */
async function pool<T> (jobs: (() => Promise<T>)[], n: number): Promise<T[]> {
  const out: T[] = []
  let next = 0
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < jobs.length) {
      const i = next++
      out[i] = await jobs[i]!()
    }
  }))
  return out
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'homefacts-fuzz-'))
  hub = await startHubProcess(dir)
  port = Number(new URL(hub.mqttUrl).port)
  wsUrl = (await hub.waitForLog<{ msg: string, ws: string }>((e) => e.msg === 'hub started')).ws
  sampler = setInterval(() => { maxRssMb = Math.max(maxRssMb, rssMb(hub.proc.pid!)) }, 100)
})

afterAll(async () => {
  clearInterval(sampler)
  hub?.proc.kill('SIGTERM')
  await hub?.exited
  rmSync(dir, { recursive: true, force: true })
})

describe('the MQTT listeners under hostile input', () => {
  const r = rng(seed)
  afterEach((ctx) => { console.log(`fuzz-mqtt: hub RSS ${rssMb(hub.proc.pid!).toFixed(1)} MB (peak ${maxRssMb.toFixed(1)}) after "${ctx.task.name}"`) })

  it(`closes ${SLOWLORIS} slowloris connects that never finish CONNECT, while serving ${TCP_PACKETS} hostile packets on TCP`, async () => {
    const idleRss = rssMb(hub.proc.pid!)
    // Slowloris: a CONNECT trickled one byte a second, never finished. aedes closes a connection
    // whose CONNECT has not arrived within its connectTimeout (30 s).
    const started = Date.now()
    const slow = Array.from({ length: SLOWLORIS }, (_, i) => new Promise<number>((resolve) => {
      const bytes = connectPacket({ clientId: `slowloris-${i}`, username: 'nobody', password: 'x'.repeat(200) })
      const s: Socket = tcpConnect(port, '127.0.0.1')
      let at = 0
      const trickle = setInterval(() => { if (at < bytes.length - 1) s.write(bytes.subarray(at, ++at)) }, 1000)
      s.on('error', () => {})
      s.on('close', () => { clearInterval(trickle); resolve(Date.now() - started) })
    }))
    const kinds = Array.from({ length: TCP_PACKETS }, () => r.pick(PRE_CONNECT))
    // Drawn up front, so the same seed gives the same bytes whatever the timing.
    const packets = kinds.map((k) => hostile(k, r))
    const results = await pool(packets.map((p) => () => sendRaw(p)), CONCURRENCY)
    const counts = Object.fromEntries(PRE_CONNECT.map((k) => [k, kinds.filter((x) => x === k).length]))
    console.log(`fuzz-mqtt: ${TCP_PACKETS} hostile TCP packets (${JSON.stringify(counts)}); ${results.filter((x) => x === 'closed').length} closed by the hub within 300 ms; idle RSS ${idleRss.toFixed(1)} MB`)
    expect(hub.proc.exitCode).toBeNull()
    // A 256 MB claim is never buffered: the hub is still within its bound while such connections wait.
    const claims = await Promise.all(Array.from({ length: 50 }, () => Buffer.concat([Buffer.from([0x30]), varint(MAX_REMAINING), r.bytes(60_000)])).map((p) => sendRaw(p, 1000)))
    expect(claims).toHaveLength(50)
    const closedAfter = await Promise.all(slow)
    expect(Math.max(...closedAfter)).toBeLessThan(45_000)
    expect(Math.min(...closedAfter)).toBeGreaterThan(25_000)
  }, 180_000)

  it(`drops ${WS_PACKETS} hostile WebSocket frames without harm`, async () => {
    const frames = Array.from({ length: WS_PACKETS }, () => hostile(r.pick(PRE_CONNECT), r))
    const results = await pool(frames.map((frame) => () => new Promise<'closed' | 'open'>((resolve) => {
      const ws = new WebSocket(wsUrl, 'mqtt')
      let timer: NodeJS.Timeout | undefined
      ws.on('error', () => {})
      ws.on('open', () => {
        ws.send(frame, () => { sent++ })
        timer = setTimeout(() => { ws.terminate(); resolve('open') }, 300)
      })
      ws.on('close', () => { clearTimeout(timer); resolve('closed') })
    })), CONCURRENCY)
    console.log(`fuzz-mqtt: ${WS_PACKETS} hostile WebSocket frames; ${results.filter((x) => x === 'closed').length} closed by the hub within 300 ms`)
    expect(hub.proc.exitCode).toBeNull()
  })

  it('closes a logged-in client that publishes on a wildcard or empty topic, dead-letters invalid UTF-8 and NUL, and delivers none', async () => {
    const watcher = await connect(hub.mqttUrl, { ...hub.admin, clientId: 'watch-topics' })
    const inbox = new Inbox(watcher)
    await watcher.subscribeAsync(['home/#', 'homefacts/deadletter/#'], { qos: 1 })
    const fact = Buffer.from(JSON.stringify(cupEmpty(1)))
    // A wildcard in a PUBLISH topic, or an empty one, is a protocol error: the hub closes the connection [MQTT-3.3.2-1], [MQTT-3.3.2-2].
    const closes = [Buffer.from('home/kitchen/+/fact/empty'), Buffer.from('home/kitchen/lily-cup/fact/#'), Buffer.from('#'), Buffer.alloc(0)]
    // mqtt-packet does not check a topic's UTF-8 [MQTT-1.5.3-1]: the contract check refuses its shape.
    const refuses = [Buffer.from('home/\xc3\x28/lily-cup/fact/empty', 'latin1'), Buffer.from('home/\xed\xa0\x80/x/fact/empty', 'latin1'), Buffer.from('home/kitchen\u0000/lily-cup/fact/empty')]
    const run = (topics: Buffer[], from: number): Promise<('closed' | 'open')[]> => Promise.all(topics.map((t, i) => afterLogin(`bad-topic-${from + i}`, publishPacket(t, fact, { qos: 1, id: 7 }))))
    expect(await run(closes, 0)).toStrictEqual(closes.map(() => 'closed'))
    const refused = await run(refuses, closes.length)
    for (const [i, outcome] of refused.entries()) {
      if (outcome === 'closed') continue
      const [letter] = await inbox.wait(`homefacts/deadletter/bad-topic-${closes.length + i}`)
      expect(JSON.parse(letter!.payload)).toMatchObject({ reason: { code: 'HF_TOPIC_SHAPE' }, clientId: `bad-topic-${closes.length + i}` })
    }
    // A logged-in client that claims a 256 MB PUBLISH and sends a little of it is left to its keep-alive; nothing is buffered for it.
    await Promise.all([0, 1, 2].map((i) => afterLogin(`claim-256mb-${i}`, Buffer.concat([Buffer.from([0x32]), varint(MAX_REMAINING), r.bytes(60_000)]))))
    expect(inbox.messages.filter((m) => m.topic.startsWith('home/'))).toStrictEqual([])
    expect(hub.proc.exitCode).toBeNull()
    await watcher.endAsync()
  })

  it('serves a client with 5,000 subscriptions, delivering a fact to the one filter it matches', async () => {
    const c = await connect(hub.mqttUrl, { ...hub.admin, clientId: 'many-subs' })
    const inbox = new Inbox(c)
    const filters = Array.from({ length: 5000 }, (_, i) => `home/area-${i}/+/fact/#`)
    const codes: number[] = []
    for (let i = 0; i < filters.length; i += 500) codes.push(...await subscribeCodes(c, filters.slice(i, i + 500)))
    expect(codes).toStrictEqual(filters.map(() => 1))
    const fact = JSON.stringify(cupEmpty(1, 'area-4321', 'cup'))
    const pub = await connect(hub.mqttUrl, { ...hub.admin, clientId: 'many-subs-pub' })
    expect(await publishAck(pub, 'home/area-4321/cup/fact/empty', fact)).toStrictEqual({ reasonCode: 0 })
    const [got] = await inbox.wait('home/area-4321/cup/fact/empty')
    expect(got).toStrictEqual({ topic: 'home/area-4321/cup/fact/empty', payload: fact, qos: 1, retain: false })
    await pub.endAsync()
    await c.endAsync()
  })

  for (const protocolVersion of [4, 5] as const) {
    it(`closes the connection of a 10 MB publish as it arrives (limits.maxPayloadBytes; MQTT ${protocolVersion === 4 ? '3.1.1: closed' : '5: DISCONNECT 0x95'}) and delivers nothing of it`, async () => {
      const clientId = `big-${protocolVersion}`
      const watcher = await connect(hub.mqttUrl, { ...hub.admin, clientId: `watch-10mb-${protocolVersion}` })
      const inbox = new Inbox(watcher)
      await watcher.subscribeAsync(['home/kitchen/lily-cup/fact/#', 'home/kitchen/other-cup/#', `homefacts/deadletter/${clientId}`], { qos: 1 })
      // A raw client: mqtt.js would refuse to send past the Maximum Packet Size the CONNACK gives.
      const c = await rawConnect(hub.mqttUrl, { cmd: 'connect', protocolVersion, clientId, clean: true, keepalive: 0, username: hub.admin.username, password: Buffer.from(hub.admin.password) })
      const closed = new Promise((resolve) => c.socket.once('close', resolve))
      const payload = JSON.stringify({ ...cupEmpty(1), data: { level: 0.1, pad: 'x'.repeat(10 * 1024 * 1024) } })
      c.send({ cmd: 'publish', topic: 'home/kitchen/lily-cup/fact/empty', payload, qos: 1, messageId: 1, retain: false, dup: false })
      await closed
      // No PUBACK. On MQTT 5 the hub sends DISCONNECT 0x95 first, but closing on a client that is
      // still writing resets the connection, which may discard it (test/broker/limits.test.ts sees
      // it on a smaller packet).
      const answers = c.received.filter((p) => p.cmd !== 'connack').map((p) => [p.cmd, p.reasonCode])
      expect(answers.filter(([cmd, code]) => !(protocolVersion === 5 && cmd === 'disconnect' && code === 0x95))).toStrictEqual([])
      // The watcher is live: a good fact on the same topic arrives, and it is the only fact it got.
      const good = JSON.stringify(cupEmpty(2))
      const pub = await connect(hub.mqttUrl, { ...hub.admin, clientId: `after-10mb-${protocolVersion}` })
      expect(await publishAck(pub, 'home/kitchen/lily-cup/fact/empty', good)).toStrictEqual({ reasonCode: 0 })
      await inbox.wait((m) => m.payload === good)
      expect(inbox.messages.filter((m) => m.topic.startsWith('home/')).map((m) => m.payload)).toStrictEqual([good])
      await pub.endAsync()
      await watcher.endAsync()
    }, 60_000)
  }

  it(`is still up afterwards: its health check answers, a normal client publishes and receives a fact, and its RSS stayed under ${RSS_BOUND_MB} MB`, async () => {
    expect(hub.proc.exitCode).toBeNull()
    const health = await (await fetch(`${hub.httpUrl}/api/health`)).json() as { status: string, ledgerOffset: number }
    expect(health.status).toBe('ok')
    const c = await connect(hub.mqttUrl, { ...hub.admin, clientId: 'after-fuzz' })
    const inbox = new Inbox(c)
    await c.subscribeAsync('home/kitchen/lily-cup/fact/#', { qos: 1 })
    const fact = JSON.stringify(cupEmpty(9))
    expect(await publishAck(c, 'home/kitchen/lily-cup/fact/empty', fact)).toStrictEqual({ reasonCode: 0 })
    const [got] = await inbox.wait('home/kitchen/lily-cup/fact/empty')
    expect(got).toStrictEqual({ topic: 'home/kitchen/lily-cup/fact/empty', payload: fact, qos: 1, retain: false })
    await c.endAsync()
    console.log(`fuzz-mqtt: ${sent} hostile packets sent in all; hub RSS peaked at ${maxRssMb.toFixed(1)} MB (bound ${RSS_BOUND_MB} MB)`)
    expect(sent).toBeGreaterThanOrEqual(10_000)
    expect(maxRssMb).toBeLessThan(RSS_BOUND_MB)
  })
})
