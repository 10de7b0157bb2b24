/**
 * The estate's rows of `npm run bench` (alone: `npm run bench -- --only estate`): two
 * hubs (`bin/homefacts.js start`, as `npm start` runs them) linked by three nats-servers as one
 * JetStream cluster on loopback, and, beside them, two Mosquittos linked by a bridge
 * (`connection` + `topic` in mosquitto.conf), what a user would otherwise pick.
 *
 * - house to house: one publisher at grandma's, one subscriber at the family's on
 *   `sites/grandma/...`, QoS 1, `LATENCY.count` facts at `LATENCY.rate`/s after a warm-up; from the
 *   publish call to receipt, nearest-rank percentiles.
 * - partition: the whole cluster stopped while grandma's hub takes `CATCH_UP.count` facts at
 *   `CATCH_UP.rate`/s; then the cluster is started again: the time until her stream holds them
 *   all (forwarding throughput, facts/s from her ledger to the stream, from the first fact to
 *   the last) and until the family's subscriber has them all (catch-up).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import { connect as connectNats } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'
import { type Fact } from '#contract'
import { makeFact } from '#client'
import { startNatsCluster, type NatsCluster } from '../test/helpers/nats.ts'
import { startHubProcess, type HubProcess } from '../test/helpers/process.ts'
import { findMosquitto } from './mosquitto.ts'
import { freePort, untilConnack } from './target.ts'

export const LATENCY = { rate: 100, count: 2_000, warmup: 300 }
export const CATCH_UP = { count: 30_000, rate: 500 }
const USERS = [{ user: 'grandma', password: 'bench-grandma' }, { user: 'family', password: 'bench-family' }]

export interface EstateResult {
  estate: { p50: number, p99: number, max: number }
  bridge: { p50: number, p99: number, max: number } | null
  /** Facts/s from grandma's ledger to her stream once they flow again, after the partition. */
  forwardPerSecond: number
  /** From the cluster's restart (all three nodes answering) until her stream held a first fact again. */
  firstMs: number
  /** From the cluster's restart until her stream held every fact, and until the family had every fact. */
  streamMs: number
  catchUpMs: number
  /** How long the cluster was down. */
  partitionMs: number
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!
}

/** As bench/load.ts: no Nagle on the load's own sockets, on every column. */
const noDelay = (client: MqttClient): MqttClient => {
  ;(client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true)
  return client
}

const motion = (n: number): Fact => makeFact('motion.detected', { subject: `home/hall/motion-${n % 10}`, source: `devices/motion-${n % 10}`, seq: Math.floor(n / 10) + 1, data: {} })

/** Publishes `count` facts at `rate`/s on `client`; `topicOf` names each one's topic. */
async function paced (client: MqttClient, count: number, rate: number, onPublish: (fact: Fact, at: number) => void, prefix = ''): Promise<void> {
  const start = performance.now()
  const acks: Promise<unknown>[] = []
  for (let n = 0; n < count; n++) {
    const due = start + n * 1000 / rate
    const wait = due - performance.now()
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
    const fact = motion(n)
    onPublish(fact, performance.now())
    acks.push(client.publishAsync(`${prefix}${fact.subject}/fact/detected`, JSON.stringify(fact), { qos: 1 }))
  }
  await Promise.all(acks)
}

/** Latency from a publisher on `from` to a subscriber on `to` (filter `filter`), as `{p50, p99, max}` ms after the warm-up. */
async function houseToHouse (from: { url: string, opts: mqtt.IClientOptions }, to: { url: string, opts: mqtt.IClientOptions }, filter: string, prefix = ''): Promise<{ p50: number, p99: number, max: number }> {
  const sent = new Map<string, number>()
  const took: number[] = []
  const sub = noDelay(await mqtt.connectAsync(to.url, { clientId: `bench-estate-sub-${process.pid}`, ...to.opts }))
  let received = 0
  let all!: () => void
  const done = new Promise<void>((resolve) => { all = resolve })
  sub.on('message', (_topic, payload) => {
    const at = performance.now()
    const id = (JSON.parse(payload.toString()) as Fact).id
    const t0 = sent.get(id)
    if (t0 !== undefined && received++ >= LATENCY.warmup) took.push(at - t0)
    if (received === LATENCY.warmup + LATENCY.count) all()
  })
  await sub.subscribeAsync(filter, { qos: 1 })
  const pub = noDelay(await mqtt.connectAsync(from.url, { clientId: `bench-estate-pub-${process.pid}`, ...from.opts }))
  await paced(pub, LATENCY.warmup + LATENCY.count, LATENCY.rate, (f, at) => sent.set(f.id, at), prefix)
  await Promise.race([done, new Promise((_resolve, reject) => setTimeout(() => reject(new Error(`only ${received} of ${LATENCY.warmup + LATENCY.count} facts arrived`)), 30_000))])
  await Promise.all([pub.endAsync(), sub.endAsync()])
  return { p50: percentile(took, 0.5), p99: percentile(took, 0.99), max: Math.max(...took) }
}

/** Two Mosquittos, the family's bridged to grandma's: her `home/#` arrives as `sites/grandma/home/#`. */
async function bridge (bin: string): Promise<{ grandma: string, family: string, stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'homefacts-bench-bridge-'))
  const [g, f] = [await freePort(), await freePort()]
  const base = ['allow_anonymous true', 'persistence false', 'set_tcp_nodelay true', 'max_queued_messages 0', 'max_inflight_messages 0', 'log_dest stderr', 'log_type error']
  writeFileSync(join(dir, 'grandma.conf'), [`listener ${g} 127.0.0.1`, ...base, ''].join('\n'))
  writeFileSync(join(dir, 'family.conf'), [`listener ${f} 127.0.0.1`, ...base,
    'connection grandma', `address 127.0.0.1:${g}`, 'topic home/# in 1 sites/grandma/ ""', 'cleansession false', 'bridge_protocol_version mqttv311', ''].join('\n'))
  const procs: ChildProcess[] = ['grandma', 'family'].map((name) => spawn(bin, ['-c', join(dir, `${name}.conf`)], { stdio: ['ignore', 'ignore', 'inherit'] }))
  await untilConnack(`mqtt://127.0.0.1:${g}`, undefined, 20_000)
  await untilConnack(`mqtt://127.0.0.1:${f}`, undefined, 20_000)
  // The bridge subscribes once it is connected; give it its CONNACK and SUBACK.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  return {
    grandma: `mqtt://127.0.0.1:${g}`,
    family: `mqtt://127.0.0.1:${f}`,
    stop: async () => {
      await Promise.all(procs.map((p) => new Promise((resolve) => { p.once('exit', resolve); p.kill('SIGTERM') })))
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** Starts a hub process in the estate. */
async function house (dir: string, cluster: NatsCluster, site: string, follow?: string): Promise<HubProcess> {
  const user = USERS.find((u) => u.user === site)!
  const hub = await startHubProcess(dir, ['--estate-site', site, '--estate-servers', cluster.servers, '--estate-user', user.user, '--estate-password', user.password, ...(follow ? ['--estate-follow', follow] : []), '--phones-enabled', 'false'])
  await hub.waitForLog((e: { msg?: string }) => e.msg === 'estate: linked', 60_000)
  return hub
}

export async function estateScenario (log: (msg: string) => void): Promise<EstateResult> {
  const cluster = await startNatsCluster(USERS)
  const dirs = [mkdtempSync(join(tmpdir(), 'homefacts-bench-grandma-')), mkdtempSync(join(tmpdir(), 'homefacts-bench-family-'))]
  const hubs: HubProcess[] = []
  try {
    const grandma = await house(dirs[0]!, cluster, 'grandma')
    hubs.push(grandma)
    const family = await house(dirs[1]!, cluster, 'family', 'grandma')
    hubs.push(family)
    const estate = await houseToHouse({ url: grandma.mqttUrl, opts: { ...grandma.admin } }, { url: family.mqttUrl, opts: { ...family.admin } }, 'sites/grandma/home/+/+/fact/+')
    log(`estate house to house: p50 ${estate.p50.toFixed(2)} ms, p99 ${estate.p99.toFixed(2)} ms`)

    const mosquitto = findMosquitto()
    let bridged: EstateResult['bridge'] = null
    if (mosquitto) {
      const b = await bridge(mosquitto)
      try {
        bridged = await houseToHouse({ url: b.grandma, opts: {} }, { url: b.family, opts: {} }, 'sites/grandma/home/+/+/fact/+')
      } finally {
        await b.stop()
      }
      log(`Mosquitto bridge house to house: p50 ${bridged.p50.toFixed(2)} ms, p99 ${bridged.p99.toFixed(2)} ms`)
    } else log('Mosquitto is not installed: no bridge figures')

    // The partition: every NATS node down while grandma's hub takes the facts.
    const nc = await connectNats({ servers: cluster.servers.split(','), user: USERS[0]!.user, pass: USERS[0]!.password })
    const jsm = await jetstreamManager(nc)
    const before = (await jsm.streams.info('homefacts-grandma')).state.messages
    await nc.close()
    const sub = noDelay(await mqtt.connectAsync(family.mqttUrl, { clientId: 'bench-estate-catch-up', ...family.admin }))
    let received = 0
    sub.on('message', () => { received++ })
    await sub.subscribeAsync('sites/grandma/home/+/+/fact/+', { qos: 1 })
    await cluster.stopAll()
    const downAt = performance.now()
    const pub = await mqtt.connectAsync(grandma.mqttUrl, { clientId: 'bench-estate-partition', ...grandma.admin })
    await paced(pub, CATCH_UP.count, CATCH_UP.rate, () => {})
    await pub.endAsync()
    log(`partition: ${CATCH_UP.count.toLocaleString('en-US')} facts queued at grandma's; starting the cluster again`)
    await cluster.startAll()
    const upAt = performance.now()
    const watcher = await connectNats({ servers: cluster.servers.split(','), user: USERS[0]!.user, pass: USERS[0]!.password })
    const wjsm = await jetstreamManager(watcher)
    let firstMs = 0
    let streamMs = 0
    let catchUpMs = 0
    const deadline = upAt + 180_000
    let told = upAt
    while ((streamMs === 0 || catchUpMs === 0) && performance.now() < deadline) {
      const held = streamMs === 0 ? await wjsm.streams.info('homefacts-grandma').then((i) => i.state.messages - before, () => 0) : CATCH_UP.count
      if (firstMs === 0 && held > 0) firstMs = performance.now() - upAt
      if (streamMs === 0 && held >= CATCH_UP.count) streamMs = performance.now() - upAt
      if (performance.now() - told > 5000) {
        told = performance.now()
        log(`catch-up, ${((told - upAt) / 1000).toFixed(0)} s after the restart: ${held} in the stream, ${received} at the family's`)
      }
      if (catchUpMs === 0 && received >= CATCH_UP.count) catchUpMs = performance.now() - upAt
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await watcher.close()
    await sub.endAsync()
    if (streamMs === 0 || catchUpMs === 0) throw new Error(`catch-up did not finish within 180 s: family received ${received} of ${CATCH_UP.count}`)
    // Sampled every 50 ms: the rate is from the first sample that saw a fact to the one that saw them all.
    return { estate, bridge: bridged, forwardPerSecond: CATCH_UP.count / ((streamMs - firstMs) / 1000), firstMs, streamMs, catchUpMs, partitionMs: upAt - downAt }
  } finally {
    for (const h of hubs) {
      h.proc.kill('SIGTERM')
      await h.exited
    }
    await cluster.close()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  }
}

/** The estate's rows, as a markdown table. */
export function estateTable (r: EstateResult): string {
  const ms = (v: number): string => v.toFixed(2)
  const b = r.bridge
  return [
    '| estate | homefacts estate (3-node JetStream) | Mosquitto bridge | goal |',
    '|---|--:|--:|--:|',
    `| house to house p50 at ${LATENCY.rate}/s (ms) | ${ms(r.estate.p50)} | ${b ? ms(b.p50) : '–'} | |`,
    `| house to house p99 at ${LATENCY.rate}/s (ms) | ${ms(r.estate.p99)} | ${b ? ms(b.p99) : '–'} | ≤ 50 |`,
    `| house to house max at ${LATENCY.rate}/s (ms) | ${ms(r.estate.max)} | ${b ? ms(b.max) : '–'} | |`,
    `| forwarding, ledger → stream, once flowing after the partition (facts/s) | ${r.forwardPerSecond.toFixed(0)} | – | |`,
    `| after the partition: the cluster answering → a first fact in the stream (s) | ${(r.firstMs / 1000).toFixed(1)} | – | |`,
    `| catch-up of ${CATCH_UP.count.toLocaleString('en-US')} facts after a ${(r.partitionMs / 1000).toFixed(0)} s partition: in the stream (s) | ${(r.streamMs / 1000).toFixed(1)} | – | |`,
    `| catch-up of ${CATCH_UP.count.toLocaleString('en-US')} facts after a ${(r.partitionMs / 1000).toFixed(0)} s partition: at the family's subscriber (s) | ${(r.catchUpMs / 1000).toFixed(1)} | – | ≤ 30 |`
  ].join('\n')
}
