import { fork } from 'node:child_process'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { factName, stateTopic, thingFactTopic, thingSubject, type ThingState } from '#contract'
import { makeFact, newFactId } from '#client'
import { procSample, threadSample, type ThreadSample } from './procfs.ts'
import type { GcPause, ProbeReport, Target } from './target.ts'
import { connect, endAll, msSince, nowNs, publishAll, publishWindowed, receive, receiveUntilQuiet, subscribe, type Outgoing } from './load.ts'

const LATENCY_LOAD = join(import.meta.dirname, 'latency-load.ts')

/**
 * Valid `cup.empty` / `cup.filled` facts about one thing, alternating, serialized up front, on
 * the thing's fact topics behind `prefix` ('plain/' takes the same payloads outside the contract).
 */
export function buildFacts (area: string, thing: string, count: number, prefix = ''): Outgoing[] {
  const out: Outgoing[] = []
  for (let seq = 1; seq <= count; seq++) {
    const type = seq % 2 === 1 ? 'cup.empty' : 'cup.filled'
    const fact = makeFact(type, { subject: thingSubject(area, thing), source: `devices/${area}-${thing}`, seq, data: { level: type === 'cup.empty' ? 0.02 : 0.95 } })
    out.push({ topic: prefix + thingFactTopic(area, thing, factName(type)), payload: Buffer.from(JSON.stringify(fact)) })
  }
  return out
}

export interface FanInResult {
  /** Messages delivered to the subscriber per second, from the first publish to the last delivery. */
  perSecond: number
  delivered: number
  sent: number
  elapsedMs: number
  /** Broker process CPU time (user + system, from /proc) per delivered message, in microseconds. */
  brokerCpuUsPerMsg: number
  /** The bench process's own CPU use over the run, as a share of one core. */
  loadCpuShare: number
}

/** The bench's fan-in: 20 publishers of 5,000 facts each (bench/run.ts runs it at QoS 1 and at QoS 0, in rounds). */
export const FAN_IN = { devices: 20, perDevice: 5_000, window: 32 }
/** The unmeasured fan-in each broker gets before the measured ones. */
export const FAN_IN_WARMUP = { devices: 20, perDevice: 500, window: 32, qos: 1 as const }

/**
 * Fan-in: `devices` clients each publish `perDevice` facts about their own thing; one
 * subscriber on `home/+/+/fact/+` (behind the target's prefix) at the same QoS. At QoS 1 each
 * publisher keeps at most `window` unacknowledged; at QoS 0 it writes them all at once, and
 * the count stops when nothing came for 3 s (a broker may drop QoS 0).
 */
export async function fanIn (t: Target, opts: { devices: number, perDevice: number, window: number, qos: 0 | 1, tag: string }): Promise<FanInResult> {
  const total = opts.devices * opts.perDevice
  const batches = Array.from({ length: opts.devices }, (_, d) => buildFacts('bench', `${opts.tag}-cup-${d}`, opts.perDevice, t.prefix))
  const sub = await connect(t.url, `bench-${opts.tag}-sub`, t.reader)
  await subscribe(sub, `${t.prefix}home/+/+/fact/+`, opts.qos)
  const pubs = await Promise.all(batches.map((_, d) => connect(t.url, `bench-${opts.tag}-dev-${d}`, t.device)))
  const before = procSample(t.broker.pid)
  const loadBefore = process.cpuUsage()
  const start = nowNs()
  let delivered = total
  let end: bigint
  if (opts.qos === 1) {
    const all = receive(sub, total, 120_000)
    const acked = Promise.all(pubs.map((p, d) => publishWindowed(p, batches[d]!, opts.window)))
    await all
    end = nowNs()
    await acked
  } else {
    const all = receiveUntilQuiet(sub, total, 3_000)
    await Promise.all(pubs.map((p, d) => publishAll(p, batches[d]!)))
    const r = await all
    delivered = r.got
    end = r.lastAt
  }
  const elapsedMs = Number(end - start) / 1e6
  const load = process.cpuUsage(loadBefore)
  const after = procSample(t.broker.pid)
  await endAll([...pubs, sub])
  return {
    perSecond: delivered / (elapsedMs / 1000),
    delivered,
    sent: total,
    elapsedMs,
    brokerCpuUsPerMsg: (after.cpuUs - before.cpuUs) / delivered,
    loadCpuShare: (load.user + load.system) / 1000 / elapsedMs
  }
}

export interface LatencyResult {
  /** From the publish call to the subscriber's receipt, ms. */
  p50: number
  p99: number
  /** The end-to-end p99 of the warm-up messages alone: the broker (and the load) settling into the load. */
  warmupP99: number
  max: number
  /** From the publish call to its PUBACK, ms. */
  pubackP50: number
  pubackP99: number
  count: number
  /** The broker's own view over the run (bench/probe.mjs), when it has the probe. */
  probe?: ProbeReport
  /** Of the deliveries at or above the p99 (`slow`), how many had a GC pause of the broker inside their flight. */
  slowWithGc?: number
  slow: number
  /** Of those, how many had one of the broker's `$SYS` publishes arrive during their flight, and how many bursts came. */
  slowWithSys: number
  sysBursts: number
  /** The broker's threads over the measured messages, per message: CPU µs (main thread, others) and waits. */
  perMessage: ThreadSample
}

/** Nearest-rank percentile of sorted values. */
export function percentile (sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN
}

const sortedOf = (xs: Float64Array): number[] => Array.from(xs).sort((a, b) => a - b)

/** How many of the flights [sent, received] (epoch ms) overlap one of the pauses. */
function overlapping (flights: readonly [number, number][], pauses: readonly GcPause[]): number {
  return flights.filter(([s, r]) => pauses.some((g) => g.at < r && g.at + g.ms > s)).length
}

/** What the latency load needs of a target: where the broker is, who to connect as, whose threads to count. */
export interface LatencyLoadTarget {
  url: string
  prefix: Target['prefix']
  device: Target['device']
  reader: Target['reader']
  pid: number
}

export interface LatencyLoadOptions { rate: number, count: number, warmup: number, tag: string }

/**
 * One run of the latency load: epoch ms per message (NaN: never), and the broker's threads over
 * the measured ones. It crosses the IPC channel by structured clone (`serialization: 'advanced'`),
 * which keeps the arrays and their NaNs; JSON would turn a NaN into null.
 */
export interface LatencyLoadResult {
  sentAt: Float64Array
  gotAt: Float64Array
  ackAt: Float64Array
  /** When each of the broker's `$SYS` publishes arrived. */
  sysAt: number[]
  threadsBefore: ThreadSample
  threadsAfter: ThreadSample
}

/**
 * The latency scenario's clients (bench/latency-load.ts runs it in a process of its own): one
 * publisher at QoS 1 on a steady schedule, one subscriber. `onMeasuring` is called as the first
 * measured message (after `warmup`) is sent.
 */
export async function latencyLoad (t: LatencyLoadTarget, opts: LatencyLoadOptions, onMeasuring: () => void): Promise<LatencyLoadResult> {
  const n = opts.warmup + opts.count
  const msgs = buildFacts('bench', `${opts.tag}-lat-cup`, n, t.prefix)
  const index = new Map(msgs.map((m, i) => [(JSON.parse(m.payload.toString()) as { id: string }).id, i]))
  // Epoch ms, so a flight can be matched with the broker's GC pauses.
  const at = (): number => performance.timeOrigin + performance.now()
  const sentAt = new Float64Array(n)
  const gotAt = new Float64Array(n).fill(NaN)
  const ackAt = new Float64Array(n).fill(NaN)
  const sub = await connect(t.url, `bench-${opts.tag}-lat-sub`, t.reader)
  await subscribe(sub, `${t.prefix}home/bench/${opts.tag}-lat-cup/fact/+`)
  const pub = await connect(t.url, `bench-${opts.tag}-lat-pub`, t.device)
  // The broker's own $SYS publishes (stats, heartbeat), to see whether the slow ones come with them.
  const sysAt: number[] = []
  await sub.subscribeAsync('$SYS/#', { qos: 0 })
  sub.on('message', (topic: string, payload: Buffer) => {
    const now = at()
    if (topic.startsWith('$SYS/')) return void sysAt.push(now)
    const i = index.get((JSON.parse(payload.toString()) as { id: string }).id)
    if (i !== undefined) gotAt[i] = now
  })
  const delivered = receive(sub, n, 60_000 + (n / opts.rate) * 1000, (topic) => !topic.startsWith('$SYS/'))
  const interval = 1000 / opts.rate
  const acks: Promise<unknown>[] = []
  let threadsBefore = threadSample(t.pid)
  const base = at()
  await new Promise<void>((resolve) => {
    let next = 0
    const tick = (): void => {
      const now = at() - base
      while (next < n && next * interval <= now) {
        const i = next++
        // The broker's view starts afresh with the measured messages.
        if (i === opts.warmup) {
          threadsBefore = threadSample(t.pid)
          onMeasuring()
        }
        const m = msgs[i]!
        sentAt[i] = at()
        acks.push(pub.publishAsync(m.topic, m.payload, { qos: 1 }).then(() => { ackAt[i] = at() }))
      }
      if (next < n) setTimeout(tick, Math.max(0, next * interval - (at() - base)))
      else resolve()
    }
    tick()
  })
  await Promise.all(acks)
  await delivered
  const threadsAfter = threadSample(t.pid)
  await endAll([pub, sub])
  return { sentAt, gotAt, ackAt, sysAt, threadsBefore, threadsAfter }
}

/**
 * Runs the 1 → 1 load (`latencyLoad`) in a new process (bench/latency-load.ts) and returns its raw
 * timings. `onMeasuring` runs when it sends its first measured message.
 */
export async function latencyLoadProcess (t: Target, opts: LatencyLoadOptions, onMeasuring: () => void): Promise<LatencyLoadResult> {
  const load = fork(LATENCY_LOAD, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' })
  return await new Promise<LatencyLoadResult>((resolve, reject) => {
    const target: LatencyLoadTarget = { url: t.url, prefix: t.prefix, device: t.device, reader: t.reader, pid: t.broker.pid }
    load.on('message', (m: { type: 'ready' } | { type: 'measuring' } | { type: 'done', result: LatencyLoadResult }) => {
      if (m.type === 'ready') load.send({ target, opts })
      else if (m.type === 'measuring') onMeasuring()
      else resolve(m.result)
    })
    // After a result, a settled promise ignores this.
    load.once('exit', (code, signal) => reject(new Error(`the latency load exited (${signal ?? code}) before it reported`)))
  }).finally(() => load.kill())
}

/**
 * 1 → 1 at QoS 1 at a steady `rate`: the latency from the publish call to the subscriber's
 * receipt and to the PUBACK, both in the load's process. The first `warmup` messages are sent
 * on the same schedule and left out of the figures. The load runs in a new process each time
 * (bench/latency-load.ts): a bench process that had run the fan-ins made every column's tail
 * worse, Mosquitto's too.
 */
export async function latency (t: Target, opts: LatencyLoadOptions): Promise<LatencyResult> {
  const raw = await latencyLoadProcess(t, opts, () => void t.broker.probe?.())
  const probe = await t.broker.probe?.()
  const { sentAt, gotAt, ackAt, sysAt, threadsBefore, threadsAfter } = raw
  const n = sentAt.length
  const measured = (xs: Float64Array): Float64Array => xs.subarray(opts.warmup).map((v, k) => v - sentAt[opts.warmup + k]!)
  const e2e = sortedOf(measured(gotAt))
  const puback = sortedOf(measured(ackAt))
  if (e2e.some(Number.isNaN) || puback.some(Number.isNaN)) throw new Error('a message was delivered twice or never, or not acknowledged')
  const p99 = percentile(e2e, 99)
  const warmup = sortedOf(gotAt.subarray(0, opts.warmup).map((v, k) => v - sentAt[k]!))
  const flights: [number, number][] = []
  for (let i = opts.warmup; i < n; i++) if (gotAt[i]! - sentAt[i]! >= p99) flights.push([sentAt[i]!, gotAt[i]!])
  return {
    p50: percentile(e2e, 50),
    p99,
    warmupP99: percentile(warmup, 99),
    max: e2e[e2e.length - 1]!,
    pubackP50: percentile(puback, 50),
    pubackP99: percentile(puback, 99),
    count: e2e.length,
    slow: flights.length,
    slowWithSys: flights.filter(([sent, got]) => sysAt.some((x) => x > sent && x <= got)).length,
    sysBursts: sysAt.filter((x, k) => k === 0 || x - sysAt[k - 1]! > 1000).length,
    perMessage: {
      mainCpuUs: (threadsAfter.mainCpuUs - threadsBefore.mainCpuUs) / opts.count,
      otherCpuUs: (threadsAfter.otherCpuUs - threadsBefore.otherCpuUs) / opts.count,
      waits: (threadsAfter.waits - threadsBefore.waits) / opts.count
    },
    ...(probe ? { probe, slowWithGc: overlapping(flights, probe.gc) } : {})
  }
}

/**
 * Publishes `count` valid retained `ThingState`s, then measures, `trials` times with a fresh
 * subscriber, the time from SUBSCRIBE `home/+/+/state` (behind the prefix) to the last retained
 * state received. Returns the median.
 */
export async function retained (t: Target, opts: { count: number, trials: number, tag: string }): Promise<{ medianMs: number, trialsMs: number[] }> {
  const msgs: Outgoing[] = []
  for (let i = 0; i < opts.count; i++) {
    const state: ThingState = { value: i % 2 ? 'full' : 'empty', seq: 1, since: new Date().toISOString(), factId: newFactId() }
    msgs.push({ topic: t.prefix + stateTopic(`${opts.tag}-area-${i % 10}`, `cup-${i}`), payload: Buffer.from(JSON.stringify(state)) })
  }
  const pub = await connect(t.url, `bench-${opts.tag}-state-pub`, t.device)
  await publishWindowed(pub, msgs, 32, { retain: true })
  await endAll([pub])
  const trialsMs: number[] = []
  for (let k = 0; k < opts.trials; k++) {
    const sub = await connect(t.url, `bench-${opts.tag}-state-sub-${k}`, t.reader)
    const all = receive(sub, opts.count, 30_000, (topic, _p, retain) => retain && topic.startsWith(`${t.prefix}home/${opts.tag}-area-`))
    const start = nowNs()
    await subscribe(sub, `${t.prefix}home/+/+/state`)
    await all
    trialsMs.push(msSince(start))
    await endAll([sub])
  }
  const sorted = [...trialsMs].sort((a, b) => a - b)
  return { medianMs: percentile(sorted, 50), trialsMs }
}

/**
 * `count` idle clients connected `batch` at a time: the broker's RSS (from /proc) before and
 * with them all connected, and what each one costs.
 */
export async function connections (t: Target, opts: { count: number, batch: number, tag: string }): Promise<{ rssBefore: number, rss: number, perConnection: number, connectMs: number }> {
  const clients: MqttClient[] = []
  const rssBefore = procSample(t.broker.pid).rss
  const start = nowNs()
  try {
    for (let i = 0; i < opts.count; i += opts.batch) {
      const size = Math.min(opts.batch, opts.count - i)
      clients.push(...await Promise.all(Array.from({ length: size }, (_, k) => connect(t.url, `bench-${opts.tag}-idle-${i + k}`, t.device))))
    }
    const connectMs = msSince(start)
    await new Promise((resolve) => setTimeout(resolve, 500))
    const rss = procSample(t.broker.pid).rss
    return { rssBefore, rss, perConnection: (rss - rssBefore) / opts.count, connectMs }
  } finally {
    await endAll(clients)
  }
}
