/**
 * The ledger alone at a steady rate: `Ledger.appendDeferred` → its callback (the round trip to
 * the writer thread and SQLite's commit), with this thread's event-loop delay, as the hub's
 * broker sees it but with no MQTT. The first `warmup` appends (the writer thread starts with the
 * first) are left out, as in the bench's latency scenario.
 * `PREFILL=n` first writes n facts into each round's ledger, as a hub that has been running a while has.
 * `node --import tsx bench/ledger-latency.ts [rate] [count] [rounds] [warmup]`
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Ledger } from '../broker/ledger.ts'
import { percentile, buildFacts } from './scenarios.ts'
import type { Fact } from '#contract'

const [rate = 500, count = 4000, rounds = 3, warmup = 250] = process.argv.slice(2).map(Number)
const prefill = Number(process.env.PREFILL ?? 0)
const f = (v: number): string => v.toFixed(2)

/** Appends `n` facts through the ledger itself, 10,000 at a time, as a hub that has run a while has written them. */
async function fill (ledger: Ledger, n: number): Promise<void> {
  for (let k = 0; k < n; k += 10_000) {
    await Promise.all(buildFacts('bench', `prefill-${k}`, Math.min(10_000, n - k)).map((m) => new Promise<void>((resolve, reject) => {
      const payload = m.payload.toString()
      ledger.appendDeferred(m.topic, JSON.parse(payload) as Fact, payload, 'bench', (err) => { if (err) reject(err); else resolve() })
    })))
  }
}

for (let r = 0; r < rounds; r++) {
  const dir = mkdtempSync(join(tmpdir(), 'homefacts-ledger-latency-'))
  const ledger = new Ledger(join(dir, 'ledger.sqlite'))
  ledger.open()
  await fill(ledger, prefill)
  const n = warmup + count
  const msgs = buildFacts('bench', `ledger-${r}`, n)
  const facts = msgs.map((m) => JSON.parse(m.payload.toString()) as Fact)
  const took = new Float64Array(n)
  const loop = monitorEventLoopDelay({ resolution: 1 })
  loop.enable()
  const base = performance.now()
  await new Promise<void>((resolve) => {
    let next = 0
    let done = 0
    const tick = (): void => {
      while (next < n && next * (1000 / rate) <= performance.now() - base) {
        const i = next++
        if (i === warmup) loop.reset()
        const sent = performance.now()
        ledger.appendDeferred(msgs[i]!.topic, facts[i]!, msgs[i]!.payload.toString(), 'bench', (err) => {
          if (err) throw err
          took[i] = performance.now() - sent
          if (++done === n) resolve()
        })
      }
      if (next < n) setTimeout(tick, Math.max(0, next * (1000 / rate) - (performance.now() - base)))
    }
    tick()
  })
  loop.disable()
  await ledger.close()
  rmSync(dir, { recursive: true, force: true })
  const s = Array.from(took.subarray(warmup)).sort((a, b) => a - b)
  console.log(`round ${r + 1}: ${prefill > 0 ? `${prefill} facts in the ledger, ` : ''}${count} appends at ${rate}/s after ${warmup}, append → committed p50 ${f(percentile(s, 50))} p99 ${f(percentile(s, 99))} max ${f(s[s.length - 1]!)} ms; event-loop delay p99 ${f(loop.percentile(99) / 1e6)} max ${f(loop.max / 1e6)} ms`)
}
