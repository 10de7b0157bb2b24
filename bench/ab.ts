/**
 * Two fresh hubs side by side, as the command runs them: A with the shebang's Node flags, B with
 * the flags given here after them (and, with `B_ARGS`, these `homefacts start` options too), in
 * alternating rounds of the bench's 1 → 1 scenario (QoS 1 at 500/s), so that the machine's drift
 * falls on both. Prints each round and the medians.
 * `ON=facts|plain ROUNDS=5 [B_ARGS="--phones-enabled false"] node --import tsx bench/ab.ts [node flags for B ...]`
 */
import { HubProcess } from './hub-process.ts'
import { latency, percentile } from './scenarios.ts'

const on = process.env.ON === 'plain' ? 'plain' : 'facts'
const rounds = Number(process.env.ROUNDS ?? 5)
const flags = process.argv.slice(2)
const args = process.env.B_ARGS?.split(' ').filter(Boolean) ?? []
const hubs = { A: await HubProcess.start(), B: await HubProcess.start({ nodeFlags: flags, args }) }
const figures = (): { p99: number[], cpu: number[], gc: number[] } => ({ p99: [], cpu: [], gc: [] })
const seen = { A: figures(), B: figures() }
try {
  for (let r = 0; r < rounds; r++) {
    for (const k of r % 2 === 0 ? ['A', 'B'] as const : ['B', 'A'] as const) {
      const x = await latency(hubs[k].target(k, on), { rate: 500, count: 4000, warmup: 2500, tag: `ab-${k.toLowerCase()}${r}` })
      const gc = x.probe?.gc.length ?? 0
      const majors = x.probe?.gc.filter((g) => g.kind === 'mark-compact') ?? []
      seen[k].p99.push(x.p99)
      seen[k].cpu.push(x.perMessage.mainCpuUs)
      seen[k].gc.push(gc)
      console.log(`round ${r + 1} ${k}: p50 ${x.p50.toFixed(2)} p99 ${x.p99.toFixed(2)} ms (warm-up p99 ${x.warmupP99.toFixed(2)}), main-thread CPU ${x.perMessage.mainCpuUs.toFixed(0)} µs/msg, ${gc} GC pauses (${majors.length} mark-compact${majors.length ? `, longest ${Math.max(...majors.map((g) => g.ms)).toFixed(1)} ms` : ''}), ${x.slowWithGc ?? 0}/${x.slow} slow ones with a GC pause in flight, RSS ${x.probe?.memory.rss?.toFixed(1) ?? '?'} MB`)
    }
  }
} finally {
  await Promise.all([hubs.A.stop(), hubs.B.stop()])
}
const median = (xs: number[]): number => percentile([...xs].sort((a, b) => a - b), 50)
for (const k of ['A', 'B'] as const) {
  console.log(`${k} (${k === 'A' ? 'the command' : `the command + ${[...flags, ...args].join(' ') || 'nothing'}`}), ${on}: median p99 ${median(seen[k].p99).toFixed(2)} ms, CPU ${median(seen[k].cpu).toFixed(0)} µs/msg, ${median(seen[k].gc)} GC pauses a round`)
}
