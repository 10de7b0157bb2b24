#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=8 --heap-growing-percent=20
// The `homefacts` command: a thin entry over the hub's build in dist/ (`npm run build`, which
// `npm install` runs), loaded by plain Node with no TypeScript loader.
//
// --max-semi-space-size=8 (MB; Node's default is 16) and --heap-growing-percent=20: the bounds
// on the V8 heap under a burst. The young generation is at most 2 × 8 MB, and a full GC comes
// once the old generation has grown 20% past what the last one kept, where V8 would let it grow
// much further first. Under the bench's fan-in bursts they halve the peak RSS of the 64 MB
// semi-space this line had before (about 270 → 155 MB on facts); the price is CPU on the fact
// pipeline under a QoS 1 burst, where more in-flight publishes survive a young-generation GC
// (about 50 → 70 µs a fact). Memory comes first on the household's small box (docs/footprint.md,
// "Peak RSS").
//
// MALLOC_MMAP_THRESHOLD_=131072: each scrypt password check allocates 16 MB; with glibc's
// threshold fixed, those blocks go back to the OS when freed instead of staying in the thread
// pool's heap arenas (35 to 70 MB of RSS; docs/footprint.md). The hub's children inherit it.
//
// The bench (bench/brokers.ts) runs every Node broker with the variables and flags on this line.
import { join } from 'node:path'
import { loadBundle } from './bundle.js'
import { staleBuild } from './stale-build.js'

const root = join(import.meta.dirname, '..')
const stale = staleBuild(root)
if (stale) {
  process.stderr.write(`homefacts: ${stale}; run "npm run build" in ${root}\n`)
  process.exit(1)
}
const { main } = loadBundle(join(root, 'dist', 'cli.cjs')).exports
await main(process.argv)
