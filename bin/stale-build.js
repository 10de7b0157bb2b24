// dist/build.json (scripts/build.mjs) lists the sources and the time the build started.
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Why the build under `root` is unusable (missing, or older than one of its sources), or null. */
export function staleBuild (root) {
  let manifest
  try {
    manifest = JSON.parse(readFileSync(join(root, 'dist', 'build.json'), 'utf8'))
  } catch {
    return 'there is no build in dist/'
  }
  for (const src of manifest.sources) {
    let mtime
    try {
      mtime = statSync(join(root, src)).mtimeMs
    } catch {
      continue
    }
    if (mtime > manifest.builtAt) return `the build in dist/ is older than ${src}`
  }
  return null
}
