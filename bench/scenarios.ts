import type { MqttClient } from 'mqtt'
import { factName, makeFact, newFactId, stateTopic, thingFactTopic, thingSubject, type ThingState } from '#contract'
import type { BrokerProcess } from './brokers.ts'
import { connect, endAll, msSince, nowNs, publishWindowed, receive, subscribe, type Outgoing } from './load.ts'

/** Valid `cup.empty` / `cup.filled` facts about one thing, alternating, serialized up front. */
export function buildFacts (area: string, thing: string, count: number): Outgoing[] {
  const out: Outgoing[] = []
  for (let seq = 1; seq <= count; seq++) {
    const type = seq % 2 === 1 ? 'cup.empty' : 'cup.filled'
    const fact = makeFact(type, { subject: thingSubject(area, thing), source: `devices/${area}-${thing}`, seq, data: { level: type === 'cup.empty' ? 0.02 : 0.95 } })
    out.push({ topic: thingFactTopic(area, thing, factName(type)), payload: Buffer.from(JSON.stringify(fact)) })
  }
  return out
}

export interface FanInResult {
  factsPerSecond: number
  elapsedMs: number
  /** Broker process CPU time (user + system) per delivered fact, in microseconds. */
  brokerCpuUsPerFact: number
  /** The bench process's own CPU use over the run, as a share of one core. */
  loadCpuShare: number
}

/**
 * Fan-in at QoS 1: `devices` clients each publish `perDevice` facts about their own thing,
 * with at most `window` unacknowledged each; one subscriber on `home/+/+/fact/+` at QoS 1.
 * Throughput is facts delivered to the subscriber per second, from the first publish to the last delivery.
 */
export async function fanIn (b: BrokerProcess, opts: { devices: number, perDevice: number, window: number, tag: string }): Promise<FanInResult> {
  const total = opts.devices * opts.perDevice
  const batches = Array.from({ length: opts.devices }, (_, d) => buildFacts('bench', `${opts.tag}-cup-${d}`, opts.perDevice))
  const sub = await connect(b.url, `bench-${opts.tag}-sub`, b.reader)
  await subscribe(sub, 'home/+/+/fact/+')
  const pubs = await Promise.all(batches.map((_, d) => connect(b.url, `bench-${opts.tag}-dev-${d}`, b.device)))
  const before = await b.sample()
  const loadBefore = process.cpuUsage()
  const start = nowNs()
  const delivered = receive(sub, total, 120_000)
  const acked = Promise.all(pubs.map((p, d) => publishWindowed(p, batches[d]!, opts.window)))
  await delivered
  const elapsedMs = msSince(start)
  const load = process.cpuUsage(loadBefore)
  await acked
  const after = await b.sample()
  await endAll([...pubs, sub])
  const cpuUs = (after.cpuUser + after.cpuSystem) - (before.cpuUser + before.cpuSystem)
  return {
    factsPerSecond: total / (elapsedMs / 1000),
    elapsedMs,
    brokerCpuUsPerFact: cpuUs / total,
    loadCpuShare: (load.user + load.system) / 1000 / elapsedMs
  }
}

export interface LatencyResult {
  p50: number
  p99: number
  max: number
  count: number
  /** The broker process's event-loop delay over the run (ms): how long it could not react. */
  brokerLoopDelayP99: number
  brokerLoopDelayMax: number
}

/** Nearest-rank percentile of sorted values. */
export function percentile (sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN
}

/**
 * 1 → 1 at QoS 1 at a steady `rate` facts/s: the latency from the publish call to the
 * subscriber's receipt, both in this process (process.hrtime.bigint). The first `warmup`
 * facts are sent on the same schedule and left out of the figures.
 */
export async function latency (b: BrokerProcess, opts: { rate: number, count: number, warmup: number, tag: string }): Promise<LatencyResult> {
  const n = opts.warmup + opts.count
  const msgs = buildFacts('bench', `${opts.tag}-lat-cup`, n)
  const index = new Map(msgs.map((m, i) => [(JSON.parse(m.payload.toString()) as { id: string }).id, i]))
  const sentAt = new Float64Array(n)
  const latencies = new Float64Array(n).fill(NaN)
  const sub = await connect(b.url, `bench-${opts.tag}-lat-sub`, b.reader)
  await subscribe(sub, `home/bench/${opts.tag}-lat-cup/fact/+`)
  const pub = await connect(b.url, `bench-${opts.tag}-lat-pub`, b.device)
  await b.sample({ resetLoopDelay: true })
  const base = nowNs()
  const at = (): number => Number(process.hrtime.bigint() - base) / 1e6
  sub.on('message', (_topic: string, payload: Buffer) => {
    const t = at()
    const i = index.get((JSON.parse(payload.toString()) as { id: string }).id)
    if (i !== undefined) latencies[i] = t - sentAt[i]!
  })
  const delivered = receive(sub, n, 60_000 + (n / opts.rate) * 1000)
  const interval = 1000 / opts.rate
  const acks: Promise<unknown>[] = []
  await new Promise<void>((resolve) => {
    let next = 0
    const tick = (): void => {
      const now = at()
      while (next < n && next * interval <= now) {
        const m = msgs[next]!
        sentAt[next] = at()
        acks.push(pub.publishAsync(m.topic, m.payload, { qos: 1 }))
        next++
      }
      if (next < n) setTimeout(tick, Math.max(0, next * interval - at()))
      else resolve()
    }
    tick()
  })
  await Promise.all(acks)
  await delivered
  const loop = await b.sample()
  await endAll([pub, sub])
  const sorted = Array.from(latencies.subarray(opts.warmup)).sort((a, b) => a - b)
  if (sorted.some(Number.isNaN)) throw new Error('a fact was delivered twice or never')
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1]!, count: sorted.length, brokerLoopDelayP99: loop.loopDelayP99, brokerLoopDelayMax: loop.loopDelayMax }
}

/**
 * Publishes `count` valid retained `ThingState`s, then measures, `trials` times with a fresh
 * subscriber, the time from SUBSCRIBE `home/+/+/state` to the last retained state received.
 * Returns the median.
 */
export async function retained (b: BrokerProcess, opts: { count: number, trials: number, tag: string }): Promise<{ medianMs: number, trialsMs: number[] }> {
  const msgs: Outgoing[] = []
  for (let i = 0; i < opts.count; i++) {
    const state: ThingState = { value: i % 2 ? 'full' : 'empty', seq: 1, since: new Date().toISOString(), factId: newFactId() }
    msgs.push({ topic: stateTopic(`${opts.tag}-area-${i % 10}`, `cup-${i}`), payload: Buffer.from(JSON.stringify(state)) })
  }
  const pub = await connect(b.url, `bench-${opts.tag}-state-pub`, b.device)
  await publishWindowed(pub, msgs, 32, { retain: true })
  await endAll([pub])
  const trialsMs: number[] = []
  for (let t = 0; t < opts.trials; t++) {
    const sub = await connect(b.url, `bench-${opts.tag}-state-sub-${t}`, b.reader)
    const all = receive(sub, opts.count, 30_000, (topic, _p, retain) => retain && topic.startsWith(`home/${opts.tag}-area-`))
    const start = nowNs()
    await subscribe(sub, 'home/+/+/state')
    await all
    trialsMs.push(msSince(start))
    await endAll([sub])
  }
  const sorted = [...trialsMs].sort((a, b) => a - b)
  return { medianMs: percentile(sorted, 50), trialsMs }
}

/** RSS of the broker process (after a full GC) with `count` clients connected, connected `batch` at a time. */
export async function connections (b: BrokerProcess, opts: { count: number, batch: number, tag: string }): Promise<{ rss: number, connectMs: number }> {
  const clients: MqttClient[] = []
  const start = nowNs()
  try {
    for (let i = 0; i < opts.count; i += opts.batch) {
      const size = Math.min(opts.batch, opts.count - i)
      clients.push(...await Promise.all(Array.from({ length: size }, (_, k) => connect(b.url, `bench-${opts.tag}-idle-${i + k}`, b.device))))
    }
    const connectMs = msSince(start)
    await new Promise((resolve) => setTimeout(resolve, 500))
    const s = await b.sample({ gc: true })
    return { rss: s.rss, connectMs }
  } finally {
    await endAll(clients)
  }
}
