import { readdirSync, readFileSync, statSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '..', '..')
const SHARED = join(ROOT, 'services', 'lib')

/** Every source file under `dir`, built output and dependencies left out. */
function sources (dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (name === 'dist' || name === 'node_modules') return []
    if (statSync(path).isDirectory()) return sources(path)
    return /\.(ts|js|mjs|cjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : []
  })
}

/** Each module a file imports (static, dynamic, re-exports, side effects), with whether only its types are. */
function importsOf (file: string): { from: string, typeOnly: boolean }[] {
  const text = readFileSync(file, 'utf8')
  const found = [
    ...[...text.matchAll(/^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'([^']+)'/gm)].map((m) => ({ from: m[2]!, typeOnly: m[1] !== undefined })),
    ...[...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => ({ from: m[1]!, typeOnly: false }))
  ]
  return found
}

const isLibrary = (from: string): boolean => !from.startsWith('.') && !from.startsWith('#') && !from.startsWith('/')
const isBuiltin = (from: string): boolean => from.startsWith('node:') || builtinModules.includes(from)

/**
 * The modules of a part that break the dependency rule (docs/architecture.md): a part imports
 * `#contract`, `#client`, the shared helpers in `services/lib/`, libraries and its own files;
 * never another part, nor the broker's internals.
 */
function violations (part: string, allowed: (from: string, target: string | null) => boolean): string[] {
  const dir = join(ROOT, part)
  return sources(dir).flatMap((file) => importsOf(file)
    .filter(({ from }) => {
      const target = from.startsWith('.') ? resolve(dirname(file), from) : null
      return !allowed(from, target)
    })
    .map(({ from }) => `${relative(ROOT, file)} imports ${from}`))
}

const within = (target: string | null, dir: string): boolean => target !== null && (target === dir || target.startsWith(dir + '/'))
/** The rule for every part: its own folder, the shared helpers, the contract, the client library, libraries. */
const partRule = (dir: string) => (from: string, target: string | null): boolean =>
  from === '#contract' || from === '#client' || isBuiltin(from) || isLibrary(from) || within(target, dir) || within(target, SHARED)

const SERVICES = readdirSync(join(ROOT, 'services')).filter((s) => !['hub', 'lib'].includes(s) && statSync(join(ROOT, 'services', s)).isDirectory())

describe('the dependency rule', () => {
  it('holds for every service under services/ (the hub alone wires parts together)', () => {
    expect(SERVICES).toEqual(expect.arrayContaining(['household', 'phones', 'orders', 'customers', 'notifications']))
    for (const service of SERVICES) {
      const dir = join(ROOT, 'services', service)
      expect(sources(dir).length, service).toBeGreaterThan(0)
      expect(violations(`services/${service}`, partRule(dir)), service).toStrictEqual([])
    }
  })

  it('holds for devices/ and the Node-RED nodes in flows/src/', () => {
    for (const part of ['devices', 'flows/src']) {
      expect(violations(part, partRule(join(ROOT, part))), part).toStrictEqual([])
    }
  })

  it('holds for the shared helpers in services/lib/: they belong to no part and import none', () => {
    expect(violations('services/lib', partRule(SHARED))).toStrictEqual([])
  })

  it('keeps the client library to #contract, zod, ulid, the types of mqtt.js and its own files', () => {
    const dir = join(ROOT, 'client')
    const imports = sources(dir).flatMap((file) => importsOf(file).map((i) => ({ file, ...i })))
    const allowed = imports.filter(({ from, typeOnly }) => from === '#contract' || from === 'zod' || from === 'ulid' || (from === 'mqtt' && typeOnly) || /^\.\/[\w-]+\.ts$/.test(from))
    expect(imports.length).toBeGreaterThan(0)
    expect(imports.filter((i) => !allowed.includes(i)).map((i) => `${relative(ROOT, i.file)} imports ${i.from}`)).toStrictEqual([])
  })

  it('keeps the contract to zod alone', () => {
    const dir = join(ROOT, 'broker', 'contract')
    expect(violations('broker/contract', (from, target) => from === 'zod' || within(target, dir))).toStrictEqual([])
  })

  it('finds a violation when there is one', () => {
    // The rule itself is tested: the hub wires parts together, so it breaks the part rule.
    expect(violations('services/hub', partRule(join(ROOT, 'services', 'hub')))).toEqual(expect.arrayContaining([expect.stringMatching(/^services\/hub\/hub\.ts imports \.\.\/\.\.\/broker\/index\.ts$/)]))
  })
})
