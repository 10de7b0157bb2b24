// Builds the hub (broker/, client/, devices/, services/) into dist/: one bundle of the command and
// the packages it uses (esbuild), so `bin/homefacts.js` runs with plain Node, no loader, and loads
// one file where it would resolve, read and compile some 700 (docs/footprint.md, "Cold start").
//
// - The command: dist/cli.cjs, one CommonJS file (code loaded only on demand, the certificates and
//   node-forge, runs only when called). CommonJS, because Node 20 keeps a V8 code cache only for a
//   script: bin/bundle.js loads it with one, which the build makes last by running the command.
// - ES modules next to it: the ledger's checkpoint thread (dist/checkpoints.js, which
//   broker/ledger.ts finds next to itself) and the contract (dist/contract.js, for scripts).
// - broker/fact-checks.ts is replaced by the fact checks ajv compiles now (`factChecksModule()`),
//   so the command neither loads ajv nor compiles schemas at start.
// - Left to Node: native addons and what they load (better-sqlite3), and packages
//   loaded only when used (Node-RED, johnny-five, web-push, pino-pretty).
//
// dist/build.json lists the sources the bundle was made from (the repository's files and
// package-lock.json) and the time the build started, so the command can tell a missing or stale
// build (bin/stale-build.js).
import { execFileSync } from 'node:child_process'
import { build } from 'esbuild'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const ROOT = fileURLToPath(new URL('../', import.meta.url))
export const DIST = join(ROOT, 'dist')
export const MANIFEST = join(DIST, 'build.json')
const ALIASES = { '#contract': './broker/contract/index.ts', '#client': './client/index.ts' }
const FACT_CHECKS = join(ROOT, 'broker', 'fact-checks.ts')
const EXTERNAL = ['better-sqlite3', 'node-red', 'johnny-five', 'web-push', 'pino-pretty', 'esbuild']

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  alias: ALIASES,
  external: EXTERNAL,
  absWorkingDir: ROOT,
  legalComments: 'none',
  logLevel: 'warning'
}
// Bundled CommonJS packages call require(): give each ES module chunk one.
const esm = {
  ...common,
  format: 'esm',
  banner: { js: "import { createRequire as homefactsCreateRequire } from 'node:module'; const require = homefactsCreateRequire(import.meta.url);" }
}

/** The source of the module that takes broker/fact-checks.ts's place: its checks, compiled now. */
async function factChecksSource () {
  const tmp = join(DIST, '.fact-checks.mjs')
  await build({ ...common, format: 'esm', entryPoints: [FACT_CHECKS], outfile: tmp, packages: 'external' })
  try {
    const { factChecksModule } = await import(`${pathToFileURL(tmp)}?${Date.now()}`)
    return factChecksModule()
  } finally {
    rmSync(tmp, { force: true })
  }
}

/** Builds dist/ from scratch; returns the repository files the bundle was made from. */
export async function buildHub () {
  const builtAt = Date.now()
  rmSync(DIST, { recursive: true, force: true })
  mkdirSync(DIST, { recursive: true })
  const checks = await factChecksSource()
  const factChecks = {
    name: 'homefacts-fact-checks',
    setup (b) {
      b.onLoad({ filter: /fact-checks\.ts$/ }, (args) => args.path === FACT_CHECKS ? { contents: checks, loader: 'js', resolveDir: join(ROOT, 'broker') } : undefined)
    }
  }
  // esbuild's ASCII output leaves a regex literal as it is: the NATS client (issue 31) has `µs` in
  // one. A \uXXXX escape means the same in a string, a regex, an identifier or a comment.
  const asciiNats = {
    name: 'homefacts-ascii-nats',
    setup (b) {
      b.onLoad({ filter: /[\\/]node_modules[\\/]@nats-io[\\/].*\.js$/ }, (args) => ({
        contents: readFileSync(args.path, 'utf8').replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
        loader: 'js'
      }))
    }
  }
  const output = {
    outdir: DIST,
    // Whitespace and syntax only: names stay, so stack traces still read.
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    metafile: true,
    plugins: [factChecks, asciiNats]
  }
  const [command, modules] = await Promise.all([
    build({
      ...common,
      ...output,
      format: 'cjs',
      entryPoints: { cli: 'services/hub/cli.ts' },
      outExtension: { '.js': '.cjs' },
      // The sources are ES modules: their import.meta, in a CommonJS file.
      define: { 'import.meta.url': 'homefactsImportMetaUrl', 'import.meta.dirname': '__dirname' },
      banner: { js: "const homefactsImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" }
    }),
    build({
      ...esm,
      ...output,
      entryPoints: { checkpoints: 'broker/checkpoints.js', contract: 'broker/contract/index.ts' },
      splitting: true,
      chunkNames: '[name]-[hash]'
    })
  ])
  // The metafile's inputs are relative to ROOT, with forward slashes.
  const inputs = [command, modules].flatMap((r) => Object.keys(r.metafile.inputs))
  const sources = inputs.filter((f) => !f.split('/').includes('node_modules'))
  const unique = [...new Set([...sources, 'broker/fact-checks.ts', 'scripts/build.mjs', 'package.json', 'package-lock.json'])].sort()
  // bin/bundle.js reads the command as latin1: esbuild's output is ASCII (charset 'ascii'). Checked
  // before the manifest is written, so a bundle that fails it is never taken for a good build.
  if (readFileSync(join(DIST, 'cli.cjs')).some((byte) => byte > 0x7f)) throw new Error('dist/cli.cjs is not ASCII: bin/bundle.js would misread it')
  writeFileSync(MANIFEST, JSON.stringify({ builtAt, sources: unique }) + '\n')
  // The command's code cache for its own Node flags (bin/bundle.js): the command writes it as it
  // exits. This also proves the bundle runs.
  execFileSync(join(ROOT, 'bin', 'homefacts.js'), ['--version'], { stdio: ['ignore', 'ignore', 'inherit'] })
  return unique
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildHub()
