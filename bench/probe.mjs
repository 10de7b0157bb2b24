// Loaded into a broker process by the bench (`--import bench/probe.mjs`, with
// HOMEFACTS_BENCH_PROBE=1 and an IPC channel): measures what the process's event loop could not
// do, and answers `{ type: 'probe', id }` with it, then starts afresh.
//
// - the event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution), in ms;
// - each GC pause (PerformanceObserver 'gc' entries): its start as epoch ms
//   (performance.timeOrigin + startTime, comparable with the bench's clock), duration and kind.
// - the highest of each figure of process.memoryUsage() (RSS, V8's heap, external memory and
//   array buffers), sampled every 20 ms, in MB: what a peak of RSS is made of.
// Plain JavaScript, so it loads with or without tsx.
import { getHeapSpaceStatistics } from 'node:v8'
import { monitorEventLoopDelay, performance, PerformanceObserver, constants } from 'node:perf_hooks'

const KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks'
}

if (process.env.HOMEFACTS_BENCH_PROBE === '1' && process.send) {
  // Only this process: the hub's own child processes inherit NODE_OPTIONS, not the probe.
  delete process.env.HOMEFACTS_BENCH_PROBE
  const loop = monitorEventLoopDelay({ resolution: 1 })
  loop.enable()
  let gc = []
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.push({ at: performance.timeOrigin + e.startTime, ms: e.duration, kind: KINDS[e.detail?.kind] ?? String(e.detail?.kind) })
    }
  }).observe({ entryTypes: ['gc'] })
  const MB = 1024 * 1024
  let memory = {}
  const sample = () => {
    for (const [k, v] of Object.entries(process.memoryUsage())) memory[k] = Math.max(memory[k] ?? 0, v / MB)
    for (const sp of getHeapSpaceStatistics()) memory[sp.space_name] = Math.max(memory[sp.space_name] ?? 0, sp.space_size / MB)
  }
  setInterval(sample, 20).unref()
  process.on('message', (m) => {
    if (m?.type !== 'probe') return
    process.send({ type: 'probe', id: m.id, loopDelay: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 }, gc, memory })
    loop.reset()
    gc = []
    memory = {}
  })
  // The bench went away: stop as on Ctrl-C (the hub's handler), so no broker outlives it.
  process.on('disconnect', () => { if (process.listenerCount('SIGTERM') > 0) process.kill(process.pid, 'SIGTERM') })
  // The IPC channel alone does not keep the broker running, nor stop it from exiting.
  process.channel?.unref()
}
