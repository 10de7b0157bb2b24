// Compiles the hub's TypeScript (broker/, client/, devices/, services/) to JavaScript in dist/, one
// output file per source file in the same tree, so `bin/homefacts.js` runs with plain Node and no
// loader. Relative `.ts` imports become `.js`; `#contract` and `#client` (package.json `imports`,
// which name the TypeScript sources) become relative paths to their build; JSON (package.json) is
// inlined. dist/build.json lists the sources and the
// time the build started, so the command can tell a missing or stale build (bin/homefacts.js).
import { build } from 'esbuild'
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../', import.meta.url))
export const DIST = join(ROOT, 'dist')
export const MANIFEST = join(DIST, 'build.json')
const TREES = ['broker', 'client', 'devices', 'services']
/** Browser code, bundled on its own by services/phones/web/build.mjs. */
const SKIP = [join('services', 'phones', 'web')]
const ALIASES = { '#contract': 'broker/contract/index.ts', '#client': 'client/index.ts' }

/** The hub's source files, relative to the root: TypeScript and the plain JavaScript next to it. */
export function sources () {
  const out = []
  const walk = (rel) => {
    for (const e of readdirSync(join(ROOT, rel), { withFileTypes: true })) {
      const r = join(rel, e.name)
      if (e.isDirectory()) { if (!SKIP.includes(r)) walk(r) } else if (/\.(ts|js)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(r)
    }
  }
  for (const t of TREES) walk(t)
  return out.sort()
}

const outOf = (src) => join(DIST, src).replace(/\.ts$/, '.js')
const relativeImport = (fromOut, toFile) => {
  const r = relative(dirname(fromOut), toFile).split(sep).join('/')
  return r.startsWith('.') ? r : `./${r}`
}

// Marks every import external, and rewrites the specifiers that name a file of this repo.
const rewrite = {
  name: 'homefacts-file-by-file',
  setup (b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined
      const fromOut = outOf(relative(ROOT, args.importer))
      const alias = ALIASES[args.path]
      if (alias) return { path: relativeImport(fromOut, outOf(alias)), external: true }
      if (!args.path.startsWith('.')) return { path: args.path, external: true }
      const target = resolve(args.resolveDir, args.path)
      const inTree = TREES.some((t) => target.startsWith(join(ROOT, t) + sep))
      if (inTree && /\.(ts|js)$/.test(target)) return { path: relativeImport(fromOut, outOf(relative(ROOT, target))), external: true }
      // Anything else (package.json) is inlined, so a build runs from wherever dist/ is.
      return undefined
    })
  }
}

/** Builds dist/ from scratch; returns the number of files written. */
export async function buildHub () {
  const builtAt = Date.now()
  const files = sources()
  rmSync(DIST, { recursive: true, force: true })
  mkdirSync(DIST, { recursive: true })
  await build({
    entryPoints: files.map((f) => join(ROOT, f)),
    outbase: ROOT,
    outdir: DIST,
    bundle: true,
    plugins: [rewrite],
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning'
  })
  writeFileSync(MANIFEST, JSON.stringify({ builtAt, sources: [...files, 'package.json'] }) + '\n')
  return files.length
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildHub()
