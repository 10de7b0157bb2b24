/**
 * `npm run bench`: the homefacts broker (contract check, ledger, LevelDB sessions, users-file
 * auth) and a plain in-memory aedes, each in its own process, under the same load from this
 * process, in the same run. Prints a markdown table and writes it to bench/results.md.
 *
 * `npm run bench -- --profile` also runs the homefacts broker with `--cpu-prof` and leaves the
 * profile in bench/profiles/. `npm run bench -- --attribution` also runs the fan-in against plain
 * aedes on LevelDB persistence (no hooks), to tell the session store's cost from the hooks'.
 * `npm run bench -- --only catch-up` runs only the responder catch-up scenario, prints its row
 * and leaves bench/results.md alone; `--only notify` does the same for the escalation → phone row.
 */
import { writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { BrokerProcess, hubNodeFlags } from './brokers.ts'
import { connections, fanIn, latency, retained, type FanInResult } from './scenarios.ts'
import { catchUp, type CatchUpResult } from './catch-up.ts'
import { notifyLatency, type NotifyResult } from './notify.ts'
import { markdownTable, MB, type Row } from './table.ts'

const FAN_IN = { devices: 20, perDevice: 5_000, window: 32 }
const FAN_IN_WARMUP = { devices: 20, perDevice: 500, window: 32 }
const FAN_IN_ROUNDS = 5
const LATENCY = { rate: 500, count: 5_000, warmup: 250 }
const RETAINED = { count: 1_000, trials: 3 }
const CLIENTS = { count: 2_000, batch: 100 }
const CATCH_UP = { cups: 100, perCup: 10, trials: 3 }
const CATCH_UP_TARGET_MS = 2000
const NOTIFY = { rate: 100, count: 1_000, warmup: 100 }
const NOTIFY_P99_TARGET_MS = 20
const P99_TARGET_MS = 5
const THROUGHPUT_TARGET = 0.8
/** A hard stop, so the bench always ends by itself. */
const DEADLINE_MS = 6 * 60_000

const profile = process.argv.includes('--profile')
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined
if (only !== undefined && only !== 'catch-up' && only !== 'notify') throw new Error(`--only: no scenario "${only}" (one of: catch-up, notify)`)
const attribution = process.argv.includes('--attribution')
const log = (msg: string): void => { process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`) }
const t0 = Date.now()
const deadline = setTimeout(() => {
  log('deadline reached; stopping')
  process.exit(2)
}, DEADLINE_MS)
deadline.unref()

const hf = await BrokerProcess.start('homefacts', profile ? { cpuProfDir: join(import.meta.dirname, 'profiles') } : {})
const plain = await BrokerProcess.start('plain')
const level = attribution && !only ? await BrokerProcess.start('plain-level') : null
const all = [hf, plain, ...(level ? [level] : [])]
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const loadAtStart = loadavg()

/** `trials` catch-ups on fresh cups each; the median time. A wrong decision fails the run. */
async function catchUps (b: BrokerProcess): Promise<{ medianMs: number, trials: CatchUpResult[] }> {
  const trials: CatchUpResult[] = []
  for (let t = 0; t < CATCH_UP.trials; t++) {
    const r = await catchUp(b, { cups: CATCH_UP.cups, perCup: CATCH_UP.perCup, tag: `cu${t}` })
    if (r.wrong > 0) throw new Error(`catch-up on ${b.kind}: ${r.wrong} of ${r.facts} facts decided wrongly`)
    trials.push(r)
  }
  return { medianMs: median(trials.map((r) => r.elapsedMs)), trials }
}
/** Idle RSS of a second hub that runs Node-RED (default flows), hub and child together, after a GC; then it is stopped. */
async function idleWithNodeRed (): Promise<number> {
  const b = await BrokerProcess.start('homefacts-nodered')
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    return (await b.sample({ gc: true })).rss
  } finally {
    await b.stop().catch(() => b.kill())
  }
}

const catchUpScenario = `responder catch-up, ${(CATCH_UP.cups * CATCH_UP.perCup).toLocaleString('en-US')} queued facts on ${CATCH_UP.cups} cups (${(CATCH_UP.cups * (CATCH_UP.perCup - 1)).toLocaleString('en-US')} resolved), time to decide all`
const catchUpRow = (cu: { hf: { medianMs: number }, plain: { medianMs: number } }): Row =>
  ({ scenario: catchUpScenario, unit: `ms, median of ${CATCH_UP.trials}`, homefacts: cu.hf.medianMs, plain: cu.plain.medianMs, digits: 0, target: { text: `< ${CATCH_UP_TARGET_MS / 1000} s`, met: cu.hf.medianMs < CATCH_UP_TARGET_MS } })
const catchUpLine = (r: { trials: CatchUpResult[] }): string => r.trials.map((t) => t.elapsedMs.toFixed(0)).join('/')

const notifyScenario = `household.escalated published → notification handed to the channel at ${NOTIFY.rate}/s`
const notifyRows = (n: { hf: NotifyResult, plain: NotifyResult }): Row[] => [
  { scenario: `${notifyScenario}, p50`, unit: 'ms', homefacts: n.hf.p50, plain: n.plain.p50, digits: 2 },
  { scenario: `${notifyScenario}, p99`, unit: 'ms', homefacts: n.hf.p99, plain: n.plain.p99, digits: 2, target: { text: `< ${NOTIFY_P99_TARGET_MS} ms`, met: n.hf.p99 < NOTIFY_P99_TARGET_MS } }
]
const notifyLine = (r: NotifyResult): string => `p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} max ${r.max.toFixed(2)} ms over ${r.count}`
const notifies = async (): Promise<{ hf: NotifyResult, plain: NotifyResult }> =>
  ({ hf: await notifyLatency(hf, { ...NOTIFY, tag: 'n' }), plain: await notifyLatency(plain, { ...NOTIFY, tag: 'n' }) })

if (only === 'catch-up') {
  try {
    const cu = { hf: await catchUps(hf), plain: await catchUps(plain) }
    log(`catch-up: homefacts ${catchUpLine(cu.hf)} ms, plain ${catchUpLine(cu.plain)} ms`)
    process.stdout.write(`\n${markdownTable([catchUpRow(cu)])}\n\n`)
  } finally {
    await Promise.all([hf, plain].map((b) => b.stop().catch(() => b.kill())))
  }
  process.exit(0)
}

if (only === 'notify') {
  try {
    const n = await notifies()
    log(`notify: homefacts ${notifyLine(n.hf)}; plain ${notifyLine(n.plain)}`)
    process.stdout.write(`\n${markdownTable(notifyRows(n))}\n\n`)
  } finally {
    await Promise.all([hf, plain].map((b) => b.stop().catch(() => b.kill())))
  }
  process.exit(0)
}

try {
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const idle = { hf: (await hf.sample({ gc: true })).rss, plain: (await plain.sample({ gc: true })).rss }
  log(`idle RSS: homefacts ${(idle.hf / MB).toFixed(1)} MB, plain ${(idle.plain / MB).toFixed(1)} MB`)
  const withNodeRed = await idleWithNodeRed()
  log(`idle RSS with Node-RED: homefacts ${(withNodeRed / MB).toFixed(1)} MB (hub and Node-RED processes)`)

  const conn = { hf: await connections(hf, { ...CLIENTS, tag: 'c' }), plain: await connections(plain, { ...CLIENTS, tag: 'c' }) }
  log(`${CLIENTS.count} clients: homefacts ${(conn.hf.rss / MB).toFixed(1)} MB (${conn.hf.connectMs.toFixed(0)} ms to connect), plain ${(conn.plain.rss / MB).toFixed(1)} MB (${conn.plain.connectMs.toFixed(0)} ms)`)

  for (const b of all) await fanIn(b, { ...FAN_IN_WARMUP, tag: 'w' })
  log('warm-up done')

  // Alternate the order between rounds, so neither broker always runs first.
  const rounds = new Map<BrokerProcess, FanInResult[]>(all.map((b) => [b, []]))
  for (let r = 0; r < FAN_IN_ROUNDS; r++) {
    for (const b of r % 2 === 0 ? all : [...all].reverse()) {
      const res = await fanIn(b, { ...FAN_IN, tag: `r${r}` })
      rounds.get(b)!.push(res)
      log(`fan-in round ${r + 1} ${b.kind}: ${res.factsPerSecond.toFixed(0)} facts/s in ${res.elapsedMs.toFixed(0)} ms, broker ${res.brokerCpuUsPerFact.toFixed(1)} µs CPU/fact, load process ${(res.loadCpuShare * 100).toFixed(0)}% of a core`)
    }
  }
  const counters = await hf.sample()
  const expectedFacts = FAN_IN_WARMUP.devices * FAN_IN_WARMUP.perDevice + FAN_IN_ROUNDS * FAN_IN.devices * FAN_IN.perDevice
  if (counters.accepted !== expectedFacts || counters.deadlettered !== 0 || counters.ledgerOffset !== expectedFacts) {
    throw new Error(`homefacts did not accept and ledger every fact: ${JSON.stringify(counters)}, expected ${expectedFacts}`)
  }

  const lat = { plain: await latency(plain, { ...LATENCY, tag: 'l' }), hf: await latency(hf, { ...LATENCY, tag: 'l' }) }
  const latLine = (l: typeof lat.hf): string => `p50 ${l.p50.toFixed(2)} p99 ${l.p99.toFixed(2)} max ${l.max.toFixed(2)} ms (broker event-loop delay p99 ${l.brokerLoopDelayP99.toFixed(2)} max ${l.brokerLoopDelayMax.toFixed(2)} ms)`
  log(`latency at ${LATENCY.rate}/s: homefacts ${latLine(lat.hf)}; plain ${latLine(lat.plain)}`)

  const ret = { hf: await retained(hf, { ...RETAINED, tag: 's' }), plain: await retained(plain, { ...RETAINED, tag: 's' }) }
  log(`retained: homefacts ${ret.hf.trialsMs.map((x) => x.toFixed(0)).join('/')} ms, plain ${ret.plain.trialsMs.map((x) => x.toFixed(0)).join('/')} ms`)

  const cu = { hf: await catchUps(hf), plain: await catchUps(plain) }
  log(`catch-up: homefacts ${catchUpLine(cu.hf)} ms, plain ${catchUpLine(cu.plain)} ms`)

  const notify = await notifies()
  log(`notify: homefacts ${notifyLine(notify.hf)}; plain ${notifyLine(notify.plain)}`)

  const hfRounds = rounds.get(hf)!
  const plainRounds = rounds.get(plain)!
  const fan = {
    hf: median(hfRounds.map((r) => r.factsPerSecond)),
    plain: median(plainRounds.map((r) => r.factsPerSecond))
  }
  const rows: Row[] = [
    { scenario: `fan-in QoS 1, ${FAN_IN.devices} devices × ${FAN_IN.perDevice.toLocaleString('en-US')} facts → 1 subscriber`, unit: 'delivered facts/s', homefacts: fan.hf, plain: fan.plain, digits: 0, target: { text: `≥ ${THROUGHPUT_TARGET}× plain`, met: fan.hf >= THROUGHPUT_TARGET * fan.plain } },
    { scenario: 'fan-in, broker CPU time per fact', unit: 'µs', homefacts: median(hfRounds.map((r) => r.brokerCpuUsPerFact)), plain: median(plainRounds.map((r) => r.brokerCpuUsPerFact)), digits: 1 },
    { scenario: `1 → 1 QoS 1 at ${LATENCY.rate} facts/s, latency p50`, unit: 'ms', homefacts: lat.hf.p50, plain: lat.plain.p50, digits: 2 },
    { scenario: `1 → 1 QoS 1 at ${LATENCY.rate} facts/s, latency p99`, unit: 'ms', homefacts: lat.hf.p99, plain: lat.plain.p99, digits: 2, target: { text: `< ${P99_TARGET_MS} ms`, met: lat.hf.p99 < P99_TARGET_MS } },
    { scenario: `${RETAINED.count.toLocaleString('en-US')} retained states → new subscriber, time to receive all`, unit: `ms, median of ${RETAINED.trials}`, homefacts: ret.hf.medianMs, plain: ret.plain.medianMs, digits: 1 },
    catchUpRow(cu),
    ...notifyRows(notify),
    { scenario: 'broker RSS idle', unit: 'MB', homefacts: idle.hf / MB, plain: idle.plain / MB, digits: 1 },
    { scenario: 'hub RSS idle with its Node-RED child (both processes)', unit: 'MB', homefacts: withNodeRed / MB, plain: idle.plain / MB, digits: 1 },
    { scenario: `broker RSS with ${CLIENTS.count.toLocaleString('en-US')} connected clients`, unit: 'MB', homefacts: conn.hf.rss / MB, plain: conn.plain.rss / MB, digits: 1 }
  ]
  const table = markdownTable(rows)
  process.stdout.write(`\n${table}\n\n`)

  const round = (rs: FanInResult[]): string => rs.map((r) => `${r.factsPerSecond.toFixed(0)} facts/s (load process ${(r.loadCpuShare * 100).toFixed(0)}% of a core)`).join(', ')
  const levelRounds = level ? rounds.get(level)! : []
  const attributionNote = level
    ? `- attribution (\`--attribution\`): plain aedes on the same LevelDB persistence, no hooks: median ${median(levelRounds.map((r) => r.factsPerSecond)).toFixed(0)} facts/s, ${median(levelRounds.map((r) => r.brokerCpuUsPerFact)).toFixed(1)} µs broker CPU/fact (rounds: ${round(levelRounds)}).\n`
    : ''
  const cpu = cpus()
  const md = `# Broker benchmark

- date: ${new Date().toISOString()}
- node: ${process.version}, ${process.platform}/${process.arch}
- machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(1)} GB RAM
- command: \`npm run bench${attribution ? ' -- --attribution' : ''}\` (\`node --import tsx bench/run.ts\`), ${((Date.now() - t0) / 1000).toFixed(0)} s
- load average (1/5/15 min) at start ${loadAtStart.map((x) => x.toFixed(2)).join('/')}, at end ${loadavg().map((x) => x.toFixed(2)).join('/')}: other work
  on the machine shares the ${cpus().length} cores, so figures move between runs

${table}

How it was measured:

- Each broker runs in its own process (\`bench/broker-process.ts\`); the load (mqtt.js, MQTT 3.1.1,
  TCP_NODELAY) runs in the bench process, on the same ${cpu.length}-core machine, over loopback.
  Both broker processes run with the Node flags \`homefacts start\` runs with (the shebang of
  \`bin/homefacts.js\`): \`${hubNodeFlags().join(' ')}\`.
- homefacts: the real hub (\`createHub\`, no services, log level silent) in a temp data folder, so
  every publish goes through the users-file authentication, the ACL, the contract check and the
  SQLite ledger append before its PUBACK, with sessions and retained messages in LevelDB. The load
  connects on the authenticated listener as a device user (owns \`+/+\`) and a service user.
- plain aedes: \`new Aedes()\` (in-memory persistence, no hooks) on \`net.createServer\` with TCP_NODELAY.
- fan-in: ${FAN_IN.devices} device clients, each publishing ${FAN_IN.perDevice.toLocaleString('en-US')} pre-built valid \`cup.empty\`/\`cup.filled\`
  facts about its own thing at QoS 1 with at most ${FAN_IN.window} unacknowledged; one QoS 1 subscriber on
  \`home/+/+/fact/+\`. Time from the first publish to the last delivery. A warm-up of
  ${FAN_IN_WARMUP.devices} × ${FAN_IN_WARMUP.perDevice} facts per broker first, then ${FAN_IN_ROUNDS} measured rounds per broker in alternating
  order; the table shows their median. Rounds: homefacts ${round(hfRounds)}; plain ${round(plainRounds)}.
  After the rounds the hub had accepted ${counters.accepted} facts, dead-lettered ${counters.deadlettered}, ledger offset ${counters.ledgerOffset}.
- latency: one publisher, one subscriber on the fact topic, QoS 1, ${LATENCY.count.toLocaleString('en-US')} facts at ${LATENCY.rate}/s after
  ${LATENCY.warmup} warm-up facts; latency from the publish call to receipt (\`process.hrtime.bigint()\`,
  both in the bench process), nearest-rank percentiles. Homefacts ${latLine(lat.hf)}; plain ${latLine(lat.plain)}.
${attributionNote}- retained: ${RETAINED.count.toLocaleString('en-US')} valid retained \`ThingState\`s on \`home/<area>/<thing>/state\`, then a new
  subscriber on \`home/+/+/state\`; time from SUBSCRIBE to the last state. Trials: homefacts
  ${ret.hf.trialsMs.map((x) => x.toFixed(1)).join(', ')} ms; plain ${ret.plain.trialsMs.map((x) => x.toFixed(1)).join(', ')} ms.
- responder catch-up: the household responder (\`services/household\`, MQTT 5, in the bench process)
  of member \`bench\` (homefacts: as a \`responder\` user) is started once to make its persistent
  session, then stopped; ${CATCH_UP.cups} cups each empty ${CATCH_UP.perCup} times, refilled after each time but the last (facts and
  retained states in order, QoS 1). Time from the responder's \`start()\` to the last of its
  ${(CATCH_UP.cups * CATCH_UP.perCup).toLocaleString('en-US')} \`household.decided\` facts received by another client; every decision is checked
  (skip/resolved for a refilled cup, claim/open for each cup's last fact). Fresh cups per trial. Trials:
  homefacts ${catchUpLine(cu.hf)} ms; plain ${catchUpLine(cu.plain)} ms.
- escalation → phone: the phones notifier (\`services/phones\`, MQTT 5, in the bench process; homefacts:
  as a \`service\` user) with one webhook channel to a local HTTP receiver; ${NOTIFY.count.toLocaleString('en-US')} open \`cup.empty\` facts
  with their states first, then one \`household.escalated\` per fact at ${NOTIFY.rate}/s after ${NOTIFY.warmup} warm-up ones; latency
  from the publish call to the receiver's answer to the channel's send. Homefacts ${notifyLine(notify.hf)}; plain ${notifyLine(notify.plain)}.
- RSS: \`process.memoryUsage().rss\` of the broker process after a full GC; idle is before any
  load. ${CLIENTS.count.toLocaleString('en-US')} clients connect in batches of ${CLIENTS.batch} (homefacts: as the device user) and stay
  connected while it is read. Connecting them took homefacts ${conn.hf.connectMs.toFixed(0)} ms, plain ${conn.plain.connectMs.toFixed(0)} ms.
  The broker rows are the hub without Node-RED; "with its Node-RED child" is a second hub with
  Node-RED on (the default flows loaded, idle): the hub's RSS plus the child's VmRSS.
`
  writeFileSync(join(import.meta.dirname, 'results.md'), md)
  log('wrote bench/results.md')
} finally {
  await Promise.all(all.map((b) => b.stop().catch(() => b.kill())))
}
