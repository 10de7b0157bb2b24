// Builds the hub (broker/, client/, devices/, estate/, services/) into dist/ with esbuild, so
// `bin/homefacts.js` runs it with plain Node and no TypeScript loader. The ledger's checkpoint
// thread is an entry of its own (broker/ledger.ts finds it next to itself), and so is the
// contract, for scripts. dist/build.json lists the sources the bundle was made from and the time
// the build started, so the command can tell a missing or stale build (bin/stale-build.js).
import { build } from 'esbuild'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../', import.meta.url))
export const DIST = join(ROOT, 'dist')
export const MANIFEST = join(DIST, 'build.json')

/** Builds dist/ from scratch; returns the repository files the bundle was made from. */
export async function buildHub () {
  const builtAt = Date.now()
  rmSync(DIST, { recursive: true, force: true })
  mkdirSync(DIST, { recursive: true })
  const result = await build({
    entryPoints: { cli: 'services/hub/cli.ts', checkpoints: 'broker/checkpoints.js', contract: 'broker/contract/index.ts' },
    bundle: true,
    splitting: true,
    chunkNames: '[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    alias: { '#contract': './broker/contract/index.ts', '#client': './client/index.ts' },
    // Native addons, and packages loaded only when used, stay in node_modules.
    external: ['better-sqlite3', 'node-red', 'johnny-five', 'web-push', 'pino-pretty', 'esbuild'],
    // Bundled CommonJS packages call require(): each module gets one.
    banner: { js: "import { createRequire as homefactsCreateRequire } from 'node:module'; const require = homefactsCreateRequire(import.meta.url);" },
    absWorkingDir: ROOT,
    outdir: DIST,
    // Whitespace and syntax only: names stay, so stack traces still read.
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning'
  })
  // The metafile's inputs are relative to ROOT, with forward slashes.
  const sources = Object.keys(result.metafile.inputs).filter((f) => !f.split('/').includes('node_modules'))
  const unique = [...new Set([...sources, 'scripts/build.mjs', 'package.json', 'package-lock.json'])].sort()
  writeFileSync(MANIFEST, JSON.stringify({ builtAt, sources: unique }) + '\n')
  return unique
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildHub()
