#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=64
// The `homefacts` command: a thin entry over the hub's build in dist/ (`npm run build`, which
// `npm install` runs), loaded by plain Node with no TypeScript loader.
//
// --max-semi-space-size=64 (MB; Node's default is 16): the hub holds each QoS 1 publish in memory
// until its ledger row commits, so under a steady stream a few hundred are alive at every
// young-generation GC. With the default they were copied and promoted at each one: the GCs
// took 3-7 ms and grew the old generation. With 64 MB they run half as often and promote next
// to nothing (README, "Benchmark"). V8 grows the young generation this far only when objects
// keep surviving it.
//
// MALLOC_MMAP_THRESHOLD_=131072: each scrypt password check allocates 16 MB; with glibc's
// threshold fixed, those blocks go back to the OS when freed instead of staying in the thread
// pool's heap arenas (35 to 70 MB of RSS; docs/footprint.md). The hub's children inherit it.
//
// The bench (bench/brokers.ts) runs every Node broker with the variables and flags on this line.
import { join } from 'node:path'
import { staleBuild } from './stale-build.js'

const root = join(import.meta.dirname, '..')
const stale = staleBuild(root)
if (stale) {
  process.stderr.write(`homefacts: ${stale}; run "npm run build" in ${root}\n`)
  process.exit(1)
}
const { main } = await import('../dist/cli.js')
await main(process.argv)
