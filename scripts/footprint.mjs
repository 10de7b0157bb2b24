#!/usr/bin/env node
// Starts `homefacts start` as `npm start` does (the command, so Node gets its shebang's flags) on a
// fresh data dir, and prints, per run: the time from spawn to the first CONNACK on the MQTT port,
// to the "hub started" log line, and the VmRSS and thread count of the hub process (and of its
// child processes) after it has been idle for --idle seconds.
//
//   node scripts/footprint.mjs [--runs 3] [--idle 5] [--second] [--fact] [--bin bin/homefacts.js] [-- <start flags>]
//
// --fact then publishes one cup.empty fact at QoS 1 as the admin and reports the time to its
// PUBACK (the hub's first ledger append) and the RSS after it.
// --second starts each data dir a second time and reports that start too. Node-RED is off unless
// the start flags turn it on.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import mqtt from 'mqtt'
import { makeFact, thingFactTopic, thingSubject } from '../dist/contract.js'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'

const dash = process.argv.indexOf('--')
const { values } = parseArgs({
  args: process.argv.slice(2, dash === -1 ? undefined : dash),
  options: { runs: { type: 'string', default: '3' }, idle: { type: 'string', default: '5' }, second: { type: 'boolean', default: false }, fact: { type: 'boolean', default: false }, bin: { type: 'string', default: 'bin/homefacts.js' } }
})
const extra = dash === -1 ? [] : process.argv.slice(dash + 1)

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)) })
})

// MQTT 3.1.1 CONNECT, client id "fp", no credentials: any CONNACK (even "not authorized") means
// the broker accepts MQTT.
const CONNECT = Buffer.from([0x10, 14, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 30, 0, 2, 0x66, 0x70])
function connackOnce (port) {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1')
    const done = (ok) => { sock.destroy(); resolve(ok) }
    sock.once('connect', () => sock.write(CONNECT))
    sock.once('data', (d) => done(d[0] === 0x20))
    sock.once('error', () => done(false))
    sock.once('close', () => done(false))
  })
}

const kb = (pid, key) => {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))
  return m ? Number(m[1]) : 0
}
const childrenOf = (pid) => {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number))
  } catch { return [] }
}

async function once (dir) {
  const mqttPort = await freePort()
  const t0 = performance.now()
  const proc = spawn(values.bin, ['start', '--data-dir', dir, '--mqtt-host', '127.0.0.1', '--mqtt-port', String(mqttPort), '--http-host', '127.0.0.1', '--http-port', '0', '--https-host', '127.0.0.1', '--https-port', '0', '--mqtts-host', '127.0.0.1', '--mqtts-port', '0', '--orders-port', '0', '--customers-port', '0', '--node-red-port', '0', '--log-pretty', 'false', '--node-red-enabled', 'false', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  proc.stderr.on('data', (d) => { err += d })
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal)))
  const started = new Promise((resolve) => {
    createInterface({ input: proc.stdout }).on('line', (line) => { if (line.includes('hub started')) resolve(performance.now() - t0) })
  })
  let mqttMs = null
  const dead = exited.then((code) => { throw new Error(`the hub exited (${code}): ${err}`) })
  while (mqttMs === null) {
    if (await Promise.race([connackOnce(mqttPort), dead])) mqttMs = performance.now() - t0
    else await new Promise((resolve) => setTimeout(resolve, 5))
  }
  const startedMs = await Promise.race([started, dead])
  await new Promise((resolve) => setTimeout(resolve, Number(values.idle) * 1000))
  const kids = childrenOf(proc.pid)
  const row = {
    mqttMs: Math.round(mqttMs), startedMs: Math.round(startedMs),
    rssMB: +(kb(proc.pid, 'VmRSS') / 1024).toFixed(1), threads: kb(proc.pid, 'Threads'),
    childrenRssMB: +(kids.reduce((s, k) => s + kb(k, 'VmRSS'), 0) / 1024).toFixed(1), children: kids.length
  }
  if (values.fact) Object.assign(row, await firstFact(mqttPort, dir, proc.pid))
  proc.kill('SIGTERM')
  await exited
  return row
}

let seq = 0
async function firstFact (port, dir, pid) {
  const { admin } = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8'))
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...admin, protocolVersion: 5, reconnectPeriod: 0 })
  const fact = makeFact('cup.empty', { subject: thingSubject('kitchen', 'lily-cup'), source: 'devices/footprint', seq: ++seq, data: { level: 0.02 } })
  const t = performance.now()
  const ack = await client.publishAsync(thingFactTopic('kitchen', 'lily-cup', 'empty'), JSON.stringify(fact), { qos: 1 })
  const factMs = +(performance.now() - t).toFixed(1)
  await client.endAsync()
  if (ack?.reasonCode) throw new Error(`the fact was refused: ${ack.reasonCode}`)
  await new Promise((resolve) => setTimeout(resolve, 2000))
  return { firstFactMs: factMs, rssAfterFactMB: +(kb(pid, 'VmRSS') / 1024).toFixed(1), threadsAfterFact: kb(pid, 'Threads') }
}

const rows = []
for (let i = 0; i < Number(values.runs); i++) {
  const dir = mkdtempSync(join(tmpdir(), 'hf-footprint-'))
  try {
    rows.push({ start: 'first', ...await once(dir) })
    if (values.second) rows.push({ start: 'second', ...await once(dir) })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
console.table(rows)
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }
for (const start of ['first', 'second']) {
  const r = rows.filter((x) => x.start === start)
  if (r.length) console.log(`${start} start, median of ${r.length}: MQTT accepted ${median(r.map((x) => x.mqttMs))} ms, "hub started" ${median(r.map((x) => x.startedMs))} ms, hub RSS ${median(r.map((x) => x.rssMB))} MB, children RSS ${median(r.map((x) => x.childrenRssMB))} MB`)
}
