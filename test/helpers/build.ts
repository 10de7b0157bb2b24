// vitest globalSetup: the tests that run the `homefacts` command (bin/homefacts.js) run the hub's
// build in dist/, so it is rebuilt first when it is missing or older than a source.
import { join } from 'node:path'
import { staleBuild } from '../../bin/stale-build.js'
import { buildHub } from '../../scripts/build.mjs'

export async function setup (): Promise<void> {
  if (staleBuild(join(import.meta.dirname, '..', '..'))) await buildHub()
}
