/**
 * `npm run bench`: Mosquitto, the hub as the household's plain broker (topics outside the
 * contract), the hub on the fact pipeline (contract check and ledger), and a plain in-memory
 * aedes, each in its own process, under the same load from this process, in the same run, in
 * alternating rounds. Prints a markdown table with each figure's ratio to Mosquitto and writes
 * it to bench/results.md. Without Mosquitto installed it says so and runs the other columns.
 *
 * The hub runs as `npm start` runs it (`bin/homefacts.js start`, bench/hub-process.ts).
 * `--profile` runs the fact-pipeline hub with `--cpu-prof` (profile in bench/profiles/).
 * `--attribution` adds plain aedes on the hub's session store (no hooks) as a column, to tell the
 * session store's cost from the hooks' (also with `--only latency`). `--only <scenario>` runs one scenario, prints its rows and
 * leaves bench/results.md alone: `catch-up`, `notify`, `latency` (with the hub's event-loop
 * delay and GC pauses, bench/probe.mjs), `cold-start` or `estate` (two hubs linked by a
 * 3-node JetStream cluster, and a Mosquitto bridge beside them: bench/estate.ts).
 */
import { writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { BrokerProcess } from './brokers.ts'
import { commandShebang } from '../services/lib/shebang.ts'
import { HubProcess } from './hub-process.ts'
import { findMosquitto, MosquittoProcess } from './mosquitto.ts'
import { procSample, treePss } from './procfs.ts'
import { connections, FAN_IN, FAN_IN_WARMUP, fanIn, latency, retained, type FanInResult, type LatencyResult } from './scenarios.ts'
import { catchUp } from './catch-up.ts'
import { notifyLatency, type NotifyResult } from './notify.ts'
import { estateScenario, estateTable } from './estate.ts'
import { markdownTable, MB, type Column, type Row } from './table.ts'
import type { Broker, GcPause, Target } from './target.ts'

const ROUNDS = 3
/** The first seconds of the load are its warm-up: a hub reaches its steady tail some 5 s into a new load. */
const LATENCY = { rate: 500, count: 4_000, warmup: 2_500 }
const RETAINED = { count: 1_000, trials: ROUNDS }
const CLIENTS = { count: 5_000, batch: 100 }
const CATCH_UP = { cups: 100, perCup: 10 }
/** One catch-up before the measured rounds, as the fan-ins and the latency runs have their warm-up. */
const CATCH_UP_WARMUP = { cups: 20, perCup: 10 }
const NOTIFY = { rate: 100, count: 1_000, warmup: 100 }
/** The floors a household needs (docs/benchmarks.md): what the simpler code must not fall below. */
const TARGETS = { idleMb: 100, householdMb: 160, peakMb: 150, coldStartMs: 1000, p99Ms: 5, fanInQos0: 30_000, fanInQos1: 20_000, catchUpMs: 1500, notifyP99Ms: 20 }
/** A hard stop, so the bench always ends by itself. */
const DEADLINE_MS = 16 * 60_000
const SCENARIOS = ['catch-up', 'notify', 'latency', 'cold-start', 'estate']

const arg = (name: string): string | undefined => process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined
const only = arg('--only')
if (only !== undefined && !SCENARIOS.includes(only)) throw new Error(`--only: no scenario "${only}" (one of: ${SCENARIOS.join(', ')})`)
const profile = process.argv.includes('--profile')
const attribution = process.argv.includes('--attribution') && (only === undefined || only === 'latency')
const t0 = Date.now()
const log = (msg: string): void => { process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`) }
setTimeout(() => { log('deadline reached; stopping'); process.exit(2) }, DEADLINE_MS).unref()
// Ctrl-C: exit, so that every broker's exit hook stops it (bench/hub-process.ts, bench/mosquitto.ts).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { log(`${signal}; stopping`); process.exit(130) })
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const f = (v: number, d = 1): string => v.toFixed(d)
const loadAtStart = loadavg()

const mosquittoBin = findMosquitto()
if (!mosquittoBin) log(`Mosquitto is not installed (no ${process.env.MOSQUITTO ?? '/usr/sbin/mosquitto'}): its column is left out. Install it with \`apt-get install -y mosquitto\`.`)

/** Cold start, `ROUNDS` times each in alternating order: spawn to the first CONNACK, then stopped. */
async function coldStarts (): Promise<Map<string, number[]>> {
  const starters: [string, () => Promise<Broker>][] = [
    ...(mosquittoBin ? [['Mosquitto', () => MosquittoProcess.start(mosquittoBin)] as [string, () => Promise<Broker>]] : []),
    ['homefacts', () => HubProcess.start()],
    ['plain aedes', () => BrokerProcess.start('plain')]
  ]
  const times = new Map(starters.map(([name]) => [name, [] as number[]]))
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, start] of r % 2 ? [...starters].reverse() : starters) {
      const b = await start()
      times.get(name)!.push(b.coldStartMs)
      await b.stop()
    }
  }
  log(`cold start, spawn → CONNACK: ${[...times].map(([n, ts]) => `${n} ${ts.map((t) => f(t, 0)).join('/')} ms`).join('; ')}`)
  return times
}

if (only === 'estate') {
  process.stdout.write(`\n${estateTable(await estateScenario(log))}\n\n`)
  process.exit(0)
}

if (only === 'cold-start') {
  const times = await coldStarts()
  process.stdout.write(`\n${[...times].map(([n, ts]) => `${n}: median ${f(median(ts), 0)} ms`).join('\n')}\n\n`)
  process.exit(0)
}

const cold = only ? null : await coldStarts()
const mosquitto = mosquittoBin ? await MosquittoProcess.start(mosquittoBin) : null
const hubPlain = only === 'catch-up' || only === 'notify' ? null : await HubProcess.start()
const hubFacts = await HubProcess.start(profile ? { cpuProfDir: join(import.meta.dirname, 'profiles') } : {})
const aedes = await BrokerProcess.start('plain')
const onStore = attribution ? await BrokerProcess.start('plain-store') : null
const brokers: Broker[] = [mosquitto, hubPlain, hubFacts, aedes, onStore].filter((b) => b !== null)
const targets: Target[] = [
  ...(mosquitto ? [{ column: 'Mosquitto', broker: mosquitto, url: mosquitto.url, prefix: 'plain/' } as const] : []),
  ...(hubPlain ? [hubPlain.target('homefacts, plain topics', 'plain')] : []),
  hubFacts.target('homefacts, facts', 'facts'),
  aedes.target('plain aedes', 'plain/'),
  ...(onStore ? [onStore.target('aedes on the hub\'s session store', 'plain/')] : [])
]
const stopAll = (): Promise<unknown> => Promise.all(brokers.map((b) => b.stop().catch((err: unknown) => log(`stopping ${b.name}: ${String(err)}`))))
const columns: Column[] = targets.map((t) => ({ name: t.column, hub: t.broker instanceof HubProcess }))
const reference = mosquitto ? 0 : null
/** Facts scenarios (catch-up, notify) run where the contract's topics mean something or nothing is checked. */
const factTargets = targets.filter((t) => t.broker !== hubPlain)
const byColumn = <T>(run: (t: Target) => T | undefined): (T | undefined)[] => targets.map((t) => run(t))
/** Runs `scenario` on each target in turn, never two at once. */
async function each<T> (ts: readonly Target[], scenario: (t: Target) => Promise<T>): Promise<Map<Target, T>> {
  const out = new Map<Target, T>()
  for (const t of ts) out.set(t, await scenario(t))
  return out
}

/** A new broker of the target's kind, used the same way. */
async function freshTarget (t: Target): Promise<Target> {
  if (t.broker instanceof HubProcess) return (await HubProcess.start()).target(t.column, t.prefix === '' ? 'facts' : 'plain')
  if (t.broker instanceof BrokerProcess) return (await BrokerProcess.start(t.broker.kind)).target(t.column, t.prefix)
  const m = await MosquittoProcess.start(mosquittoBin!)
  return { ...t, broker: m, url: m.url }
}

/** Runs `scenario` `ROUNDS` times on every target, alternating the order between rounds. */
async function rounds<T> (name: string, scenario: (t: Target, round: number) => Promise<T>, line: (r: T) => string): Promise<Map<Target, T[]>> {
  const out = new Map<Target, T[]>(targets.map((t) => [t, []]))
  for (let r = 0; r < ROUNDS; r++) {
    for (const t of r % 2 ? [...targets].reverse() : targets) {
      const res = await scenario(t, r)
      out.get(t)!.push(res)
      log(`${name} round ${r + 1} ${t.column}: ${line(res)}`)
    }
  }
  return out
}
/** The longest GC pause and its kind, and how many mark-compacts there were. */
const gcLongest = (gc: readonly GcPause[]): string => {
  const longest = gc.reduce<GcPause | undefined>((a, g) => (a && a.ms >= g.ms ? a : g), undefined)
  return `longest ${f(longest?.ms ?? 0, 1)} ms${longest ? ` ${longest.kind}` : ''}, ${gc.filter((g) => g.kind === 'mark-compact').length} mark-compact`
}
const latLine = (l: LatencyResult): string => `p50 ${f(l.p50, 2)} p99 ${f(l.p99, 2)} max ${f(l.max, 2)} ms (warm-up p99 ${f(l.warmupP99, 2)}), PUBACK p50 ${f(l.pubackP50, 2)} p99 ${f(l.pubackP99, 2)} ms; ` +
  `per message: broker CPU ${f(l.perMessage.mainCpuUs, 0)} µs main thread + ${f(l.perMessage.otherCpuUs, 0)} µs other threads, ${f(l.perMessage.waits, 2)} thread waits` +
  (l.probe ? `; loop delay p99 ${f(l.probe.loopDelay.p99, 2)} max ${f(l.probe.loopDelay.max, 2)} ms, ${l.probe.gc.length} GC pauses (${f(l.probe.gc.reduce((a, g) => a + g.ms, 0), 0)} ms, ${gcLongest(l.probe.gc)}); ${l.slowWithGc}/${l.slow} deliveries ≥ p99 overlapped a GC pause` : '') +
  `; ${l.slowWithSys}/${l.slow} ≥ p99 had a $SYS publish arrive in flight (${l.sysBursts} $SYS bursts)`
const latencies = (): Promise<Map<Target, LatencyResult[]>> => rounds('latency', (t, r) => latency(t, { ...LATENCY, tag: `l${r}` }), latLine)
const medianOf = <T>(m: Map<Target, T[]>, pick: (r: T) => number): (number | undefined)[] => byColumn((t) => m.has(t) ? median(m.get(t)!.map(pick)) : undefined)
const latencyRows = (lat: Map<Target, LatencyResult[]>): Row[] => [
  { scenario: `1 → 1 QoS 1 at ${LATENCY.rate} msg/s, end to end p50`, unit: 'ms', values: medianOf(lat, (l) => l.p50), digits: 2 },
  { scenario: `1 → 1 QoS 1 at ${LATENCY.rate} msg/s, end to end p99`, unit: 'ms', values: medianOf(lat, (l) => l.p99), digits: 2, target: { text: `≤ ${TARGETS.p99Ms} ms`, met: (v) => v <= TARGETS.p99Ms } },
  { scenario: `1 → 1 QoS 1 at ${LATENCY.rate} msg/s, end to end p99 of the ${LATENCY.warmup.toLocaleString('en-US')} warm-up messages (the first ${LATENCY.warmup / LATENCY.rate} s)`, unit: 'ms', values: medianOf(lat, (l) => l.warmupP99), digits: 2 },
  { scenario: `1 → 1 QoS 1 at ${LATENCY.rate} msg/s, PUBACK p50`, unit: 'ms', values: medianOf(lat, (l) => l.pubackP50), digits: 2 },
  { scenario: `1 → 1 QoS 1 at ${LATENCY.rate} msg/s, PUBACK p99`, unit: 'ms', values: medianOf(lat, (l) => l.pubackP99), digits: 2 }
]

async function catchUps (t: Target): Promise<number[]> {
  const warm = await catchUp(t, { ...CATCH_UP_WARMUP, tag: 'cuw' })
  if (warm.wrong > 0) throw new Error(`catch-up warm-up on ${t.column}: ${warm.wrong} of ${warm.facts} facts decided wrongly`)
  const times: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    const res = await catchUp(t, { ...CATCH_UP, tag: `cu${r}` })
    if (res.wrong > 0) throw new Error(`catch-up on ${t.column}: ${res.wrong} of ${res.facts} facts decided wrongly`)
    times.push(res.elapsedMs)
  }
  log(`catch-up ${t.column}: ${times.map((x) => f(x, 0)).join('/')} ms`)
  return times
}
const catchUpScenario = `responder catch-up, ${(CATCH_UP.cups * CATCH_UP.perCup).toLocaleString('en-US')} queued facts on ${CATCH_UP.cups} cups (${(CATCH_UP.cups * (CATCH_UP.perCup - 1)).toLocaleString('en-US')} resolved), time to decide all`
const catchUpRow = (cu: Map<Target, number[]>): Row => ({ scenario: catchUpScenario, unit: `ms, median of ${ROUNDS}`, values: byColumn((t) => cu.has(t) ? median(cu.get(t)!) : undefined), digits: 0, target: { text: `≤ ${TARGETS.catchUpMs / 1000} s`, met: (v) => v <= TARGETS.catchUpMs } })

const notifyLine = (r: NotifyResult): string => `p50 ${f(r.p50, 2)} p99 ${f(r.p99, 2)} max ${f(r.max, 2)} ms over ${r.count}`
/**
 * The bench runs the phones notifier itself, so on a hub of its own whose phones service is off:
 * the hub's would take the same MQTT client ids (`phones-notifier`, `phones-out`) and the two
 * would keep taking each other's session.
 */
const notifies = (): Promise<Map<Target, NotifyResult>> => each(factTargets, async (t) => {
  const hub = t.broker instanceof HubProcess ? await HubProcess.start({ args: ['--phones-enabled', 'false'] }) : null
  try {
    const r = await notifyLatency(hub ? hub.target(t.column, 'facts') : t, { ...NOTIFY, tag: 'n' })
    log(`notify ${t.column}: ${notifyLine(r)}`)
    return r
  } finally {
    await hub?.stop()
  }
})
const notifyScenario = `household.escalated published → notification handed to the channel at ${NOTIFY.rate}/s`
const notifyRows = (n: Map<Target, NotifyResult>): Row[] => [
  { scenario: `${notifyScenario}, p50`, unit: 'ms', values: byColumn((t) => n.get(t)?.p50), digits: 2 },
  { scenario: `${notifyScenario}, p99`, unit: 'ms', values: byColumn((t) => n.get(t)?.p99), digits: 2, target: { text: `< ${TARGETS.notifyP99Ms} ms`, met: (v) => v < TARGETS.notifyP99Ms } }
]

try {
  if (only === 'catch-up' || only === 'notify' || only === 'latency') {
    const rows = only === 'catch-up'
      ? [catchUpRow(await each(factTargets, catchUps))]
      : only === 'notify' ? notifyRows(await notifies()) : latencyRows(await latencies())
    process.stdout.write(`\n${markdownTable(columns, rows, reference)}\n\n`)
    await stopAll()
    process.exit(0)
  }
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const idle = byColumn((t) => procSample(t.broker.pid).rss)
  log(`idle RSS: ${targets.map((t, i) => `${t.column} ${f(idle[i]! / MB)} MB`).join(', ')}`)
  // The whole household: `homefacts start` as it comes (the hub and Node-RED), then with the shop on.
  const tree = async (opts: { shop: boolean }): Promise<{ bytes: number, processes: number }> => {
    const hub = await HubProcess.start({ nodeRed: true, ...opts })
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const pss = treePss(hub.pid)
    await hub.stop()
    log(`idle PSS of every process of homefacts start${opts.shop ? ' with the shop on' : ''}: ${f(pss.bytes / MB)} MB in ${pss.processes} processes`)
    return pss
  }
  const household = await tree({ shop: false })
  const withShop = await tree({ shop: true })

  for (const t of targets) await fanIn(t, { ...FAN_IN_WARMUP, tag: 'w' })
  log('warm-up done')
  const fanLine = (r: FanInResult): string => `${f(r.perSecond, 0)} msg/s (${r.delivered}/${r.sent} delivered in ${f(r.elapsedMs, 0)} ms), broker ${f(r.brokerCpuUsPerMsg)} µs CPU/msg, load process ${f(r.loadCpuShare * 100, 0)}% of a core`
  const fan1 = await rounds('fan-in QoS 1', (t, r) => fanIn(t, { ...FAN_IN, qos: 1, tag: `q1r${r}` }), fanLine)
  const fan0 = await rounds('fan-in QoS 0', (t, r) => fanIn(t, { ...FAN_IN, qos: 0, tag: `q0r${r}` }), fanLine)
  const peak = byColumn((t) => procSample(t.broker.pid).peakRss)
  log(`peak RSS after the fan-ins: ${targets.map((t, i) => `${t.column} ${f(peak[i]! / MB)} MB`).join(', ')}`)
  for (const t of targets) {
    const m = (await t.broker.probe?.())?.memory
    if (m) log(`${t.column}, the most since its start (sampled every 20 ms): RSS ${f(m.rss!)} MB, V8 heap ${f(m.heapTotal!)} MB (young generation ${f(m.new_space!)}, old ${f(m.old_space!)}; ${f(m.heapUsed!)} used), external ${f(m.external!)} MB`)
  }
  const expected = FAN_IN_WARMUP.devices * FAN_IN_WARMUP.perDevice + 2 * ROUNDS * FAN_IN.devices * FAN_IN.perDevice
  const offset = hubFacts.ledgerOffset()
  if (offset !== expected) throw new Error(`the hub's ledger holds ${offset} facts, expected ${expected}`)

  const lat = await latencies()
  const ret = await each(targets, (t) => retained(t, { ...RETAINED, tag: 's' }))
  log(`retained: ${targets.map((t) => `${t.column} ${ret.get(t)!.trialsMs.map((x) => f(x, 0)).join('/')} ms`).join('; ')}`)
  // On a fresh broker of each column: the retained scenario's 1,000 states, 500 of them "empty",
  // would be 500 open facts more for the responder to track.
  const cu = await each(factTargets, async (t) => {
    const fresh = await freshTarget(t)
    try {
      return await catchUps(fresh)
    } finally {
      await fresh.broker.stop()
    }
  })
  const notify = await notifies()
  await Promise.all(brokers.map((b) => b.stop()))
  const conn = await each(targets, async (t) => {
    const fresh = await freshTarget(t)
    try {
      const c = await connections(fresh, { ...CLIENTS, tag: 'c' })
      log(`${CLIENTS.count} clients on a fresh ${t.column}: ${f(c.rssBefore / MB)} → ${f(c.rss / MB)} MB, connected in ${f(c.connectMs, 0)} ms`)
      return c
    } finally {
      await fresh.broker.stop()
    }
  })
  const coldOf = (t: Target): number | undefined => cold?.get(t.broker instanceof HubProcess ? 'homefacts' : t.broker === mosquitto ? 'Mosquitto' : t.broker === aedes ? 'plain aedes' : '')?.slice()
    .sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]
  const rows: Row[] = [
    { scenario: 'RSS idle, after start', unit: 'MB', values: idle.map((v) => v! / MB), digits: 1, target: { text: `≤ ${TARGETS.idleMb} MB`, met: (v) => v <= TARGETS.idleMb } },
    { scenario: 'RSS peak (VmHWM) after the fan-ins', unit: 'MB', values: peak.map((v) => v! / MB), digits: 1, target: { text: `≤ ${TARGETS.peakMb} MB`, met: (v) => v <= TARGETS.peakMb } },
    { scenario: 'cold start, spawn → first CONNACK', unit: `ms, median of ${ROUNDS}`, values: byColumn(coldOf), digits: 0, target: { text: `≤ ${TARGETS.coldStartMs / 1000} s`, met: (v) => v <= TARGETS.coldStartMs } },
    ...latencyRows(lat),
    { scenario: `fan-in QoS 0, ${FAN_IN.devices} → 1, ${(FAN_IN.devices * FAN_IN.perDevice).toLocaleString('en-US')} msgs`, unit: 'delivered msg/s', values: medianOf(fan0, (r) => r.perSecond), digits: 0, target: { text: `≥ ${f(TARGETS.fanInQos0 / 1000)}k`, met: (v) => v >= TARGETS.fanInQos0 } },
    { scenario: `fan-in QoS 1, ${FAN_IN.devices} → 1, ${(FAN_IN.devices * FAN_IN.perDevice).toLocaleString('en-US')} msgs, ≤ ${FAN_IN.window} in flight each`, unit: 'delivered msg/s', values: medianOf(fan1, (r) => r.perSecond), digits: 0, target: { text: `≥ ${f(TARGETS.fanInQos1 / 1000)}k`, met: (v) => v >= TARGETS.fanInQos1 } },
    { scenario: 'fan-in QoS 1, broker CPU per message', unit: 'µs', values: medianOf(fan1, (r) => r.brokerCpuUsPerMsg), digits: 1 },
    { scenario: `${RETAINED.count.toLocaleString('en-US')} retained → new subscriber, time to receive all`, unit: `ms, median of ${RETAINED.trials}`, values: byColumn((t) => ret.get(t)?.medianMs), digits: 1 },
    { scenario: `${CLIENTS.count.toLocaleString('en-US')} idle connections, RSS per connection`, unit: 'KB', values: byColumn((t) => conn.get(t)!.perConnection / 1024), digits: 1 },
    catchUpRow(cu),
    ...notifyRows(notify),
    { scenario: `\`homefacts start\` idle, PSS of every process (${household.processes}: hub, Node-RED)`, unit: 'MB', values: byColumn((t) => t.broker === hubFacts ? household.bytes / MB : undefined), digits: 1, target: { text: `≤ ${TARGETS.householdMb} MB`, met: (v) => v <= TARGETS.householdMb } },
    { scenario: `the same with the shop on (${withShop.processes}: and Orders, Customers, Notifications)`, unit: 'MB', values: byColumn((t) => t.broker === hubFacts ? withShop.bytes / MB : undefined), digits: 1 }
  ]
  const table = markdownTable(columns, rows, reference)
  process.stdout.write(`\n${table}\n\n`)

  const spread = <T>(m: Map<Target, T[]>, pick: (r: T) => number, d: number): string => targets.map((t) => `${t.column} ${m.get(t)!.map((r) => f(pick(r), d)).join(' / ')}`).join('; ')
  const cpu = cpus()
  const md = `# Broker benchmark

- date: ${new Date().toISOString()}
- node: ${process.version}, ${process.platform}/${process.arch}; ${mosquitto ? `Mosquitto: \`${mosquittoBin}\`` : 'Mosquitto: not installed, left out'}
- machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${f(totalmem() / 1024 ** 3)} GB RAM
- command: \`npm run bench${attribution ? ' -- --attribution' : ''}\` (\`node --import tsx bench/run.ts\`), ${f((Date.now() - t0) / 1000, 0)} s
- load average (1/5/15 min) at start ${loadAtStart.map((x) => f(x, 2)).join('/')}, at end ${loadavg().map((x) => f(x, 2)).join('/')}: other work
  on the machine shares the ${cpu.length} cores, so figures move between runs

${table}

Each figure after a column's first is followed by its ratio to ${mosquitto ? 'Mosquitto\'s' : 'the first column\'s'}. How it was measured:

- Columns, each broker in its own process, the load (mqtt.js, MQTT 3.1.1, TCP_NODELAY) in the
  bench process, over loopback, on the same ${cpu.length} cores:
  - Mosquitto: \`mosquitto -c <temp>/mosquitto.conf\`: one listener on 127.0.0.1, anonymous,
    persistence off, no limit on queued or in-flight messages (bench/mosquitto.ts);
  - homefacts: \`bin/homefacts.js start\`, as \`npm start\` starts it (Node flags
    \`${commandShebang().flags.join(' ')}\` from its shebang), in a fresh data folder, Node-RED and the shop
    services off, log level info (bench/hub-process.ts). "plain topics": the hub as the household's
    plain broker, topics under \`plain/\`, outside the contract, as its admin (the only role that
    may publish there); "facts": the same payloads on \`home/<area>/<thing>/fact/<name>\`, as a
    device user and a service user: ACL, contract check and the SQLite ledger append before the
    PUBACK, sessions and retained messages in the SQLite session store. Each column is a hub of its own;
  - plain aedes: \`new Aedes()\` (2.0.0-beta.1, in memory, no hooks) on \`net.createServer\`,
    with the hub's Node flags (bench/broker-process.ts).
- Payloads are the same pre-built \`cup.empty\`/\`cup.filled\` facts everywhere (about 300 bytes).
- Rounds: fan-in and latency run ${ROUNDS} rounds per column, the order reversed every other round;
  the table shows medians. Rounds, fan-in QoS 1 (msg/s): ${spread(fan1, (r) => r.perSecond, 0)}.
  Fan-in QoS 0 (msg/s): ${spread(fan0, (r) => r.perSecond, 0)}. p99 end to end (ms): ${spread(lat, (l) => l.p99, 2)}.
  PUBACK p99 (ms): ${spread(lat, (l) => l.pubackP99, 2)}.
- RSS: VmRSS and VmHWM of the broker process from /proc, no forced GC; idle is 2 s after start,
  before any load; peak is the process's high-water mark after both fan-ins.
- cold start: from the spawn of the process (fresh data folder for the hub) to its first
  CONNACK 0 (as the bench device user on the hub), connecting every 10 ms; ${ROUNDS} rounds,
  alternating: ${cold ? [...cold].map(([n, ts]) => `${n} ${ts.map((x) => f(x, 0)).join(' / ')} ms`).join('; ') : ''}.
- latency: one publisher and one subscriber in a new process each round (bench/latency-load.ts), QoS 1, ${LATENCY.count.toLocaleString('en-US')} messages at ${LATENCY.rate}/s after ${LATENCY.warmup.toLocaleString('en-US')} warm-up ones (${LATENCY.warmup / LATENCY.rate} s, their p99 a row of its own);
  from the publish call to receipt and to PUBACK, nearest-rank percentiles. The hub's event-loop
  delay and GC pauses over each round (bench/probe.mjs): ${lat.get(targets.find((t) => t.broker === hubFacts)!)!.map(latLine).join(' | ')}.
- fan-in: ${FAN_IN.devices} publishers, each ${FAN_IN.perDevice.toLocaleString('en-US')} messages about its own thing; one subscriber on
  \`home/+/+/fact/+\` at the same QoS; from the first publish to the last delivery. QoS 1 with at
  most ${FAN_IN.window} unacknowledged per publisher; QoS 0 all written at once, counted until 3 s of silence.
  After the rounds the facts hub's ledger held ${offset} facts (all that were sent to it).
- retained: ${RETAINED.count.toLocaleString('en-US')} retained \`ThingState\`s, then ${RETAINED.trials} new subscribers on \`home/+/+/state\`, one at a time; from
  SUBSCRIBE to the last state: ${targets.map((t) => `${t.column} ${ret.get(t)!.trialsMs.map((x) => f(x, 0)).join(' / ')} ms`).join('; ')}.
- ${CLIENTS.count.toLocaleString('en-US')} idle connections, ${CLIENTS.batch} at a time (the hub: as the device user), one round, on a fresh
  broker of each column (memory the others freed after a load would take the new clients): the RSS
  with them connected, less the RSS before, per connection: ${targets.map((t) => `${t.column} ${f(conn.get(t)!.rssBefore / MB)} → ${f(conn.get(t)!.rss / MB)} MB`).join('; ')}.
- responder catch-up: the household responder (\`services/household\`, MQTT 5, in the bench process;
  the hub: as a \`responder\` user), ${CATCH_UP.cups} cups each empty ${CATCH_UP.perCup} times while it is away, refilled after each time
  but the last; from its \`start()\` to its last \`household.decided\`, every decision checked, after one
  unmeasured warm-up of ${CATCH_UP_WARMUP.cups} cups (each broker's first catch-up had also been its JIT warm-up), on a
  fresh broker of each column (the retained scenario's states would be open facts for the responder to track). On the
  contract's topics, so not on the plain-topics hub.
- escalation → phone: the phones notifier (\`services/phones\`, in the bench process; the hub: a
  fresh one with \`--phones-enabled false\`, so that its own notifier does not share the client ids)
  with a webhook channel to a local receiver, ${NOTIFY.count.toLocaleString('en-US')} \`household.escalated\` at ${NOTIFY.rate}/s after ${NOTIFY.warmup} warm-up ones; publish → the receiver's answer.
- the whole household: \`homefacts start\` in its own process with its defaults (Node-RED on, with
  the default flows; the shop off), 2 s after the flows started: the PSS (/proc/<pid>/smaps_rollup)
  of the hub and every process it started, summed; then the same with \`--shop-enabled true\`, 2 s
  after the three shop services said they run. PSS shares the pages the processes share among
  them, so the sum is what the household costs the machine.
`
  // The estate runs brokers of its own (bench/estate.ts), after the others have their figures.
  await stopAll()
  const estate = estateTable(await estateScenario(log))
  writeFileSync(join(import.meta.dirname, 'results.md'), `${md}\n## The estate\n\n${estate}\n\nbench/estate.ts says how each row is measured.\n`)
  log('wrote bench/results.md')
} finally {
  await stopAll()
}
