#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=8 --heap-growing-percent=20
// The `homefacts` command, run from the build in dist/. The flags bound the V8 heap under a burst,
// and the variable hands each scrypt check's 16 MB back to the OS when it ends: memory first, on a
// household's small box (docs/benchmarks.md). The hub's children run with the same.
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
