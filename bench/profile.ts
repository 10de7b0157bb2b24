/**
 * Profiles the hub as `npm start` runs it (bench/hub-process.ts: the command, its in-process
 * services) under the fan-in or the 500/s latency load, on facts or plain topics: runs it with
 * `--cpu-prof`, then prints the functions and the packages with the most self time.
 * `node --import tsx bench/profile.ts [fan-in|latency] [facts|plain]`
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { SourceMap } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { HubProcess } from './hub-process.ts'
import { fanIn, latency } from './scenarios.ts'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number, columnNumber: number }, hitCount?: number, children?: number[] }
interface CpuProfile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

const which = process.argv[2] ?? 'fan-in'
const on = process.argv[3] === 'plain' ? 'plain' : 'facts'
const dir = join(import.meta.dirname, 'profiles')
rmSync(dir, { recursive: true, force: true })
mkdirSync(dir, { recursive: true })
const b = await HubProcess.start({ cpuProfDir: dir })
try {
  const t = b.target(`homefacts, ${on}`, on)
  if (which === 'latency') console.log(await latency(t, { rate: 500, count: 3000, warmup: 250, tag: 'p' }))
  else console.log(await fanIn(t, { devices: 20, perDevice: 2500, window: 32, qos: 1, tag: 'p' }))
} finally {
  await b.stop()
}

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
if (!file) throw new Error('no profile written')
const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile
const self = new Map<number, number>()
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)))
const total = [...self.values()].reduce((a, c) => a + c, 0)
// The command runs the bundle (dist/): each frame is named by its source through the bundle's source map.
const maps = new Map<string, SourceMap | null>()
const sourceOf = (f: ProfileNode['callFrame']): { url: string, line: number } => {
  // ES modules are named by URL; the command's bundle (bin/bundle.js) by its path.
  const path = f.url.startsWith('file://') ? fileURLToPath(f.url) : f.url.startsWith('/') ? f.url : null
  if (!path) return { url: f.url, line: f.lineNumber + 1 }
  if (!maps.has(path)) maps.set(path, existsSync(path + '.map') ? new SourceMap(JSON.parse(readFileSync(path + '.map', 'utf8'))) : null)
  const entry = maps.get(path)?.findEntry(f.lineNumber, f.columnNumber)
  return entry && 'originalSource' in entry
    ? { url: relative(process.cwd(), resolve(dirname(path), entry.originalSource)), line: entry.originalLine + 1 }
    : { url: relative(process.cwd(), path), line: f.lineNumber + 1 }
}
const byFn = new Map<string, number>()
const byPkg = new Map<string, number>()
for (const n of prof.nodes) {
  const t = self.get(n.id) ?? 0
  const { url, line } = sourceOf(n.callFrame)
  const fn = `${n.callFrame.functionName || '(anonymous)'} ${url}:${line}`
  byFn.set(fn, (byFn.get(fn) ?? 0) + t)
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url === '' ? n.callFrame.functionName : url.startsWith('node:') ? 'node:' + url.slice(5).split('/')[0] : url)
  byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + t)
}
// Inclusive time: each sample counts once for every distinct function on its stack.
const parent = new Map<number, number>()
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const nodeById = new Map(prof.nodes.map((n) => [n.id, n]))
const nameOf = (n: ProfileNode): string => { const { url, line } = sourceOf(n.callFrame); return `${n.callFrame.functionName || '(anonymous)'} ${url}:${line}` }
const inclusive = new Map<string, number>()
for (const [id, t] of self) {
  const seen = new Set<string>()
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const name = nameOf(nodeById.get(cur)!)
    if (seen.has(name)) continue
    seen.add(name)
    inclusive.set(name, (inclusive.get(name) ?? 0) + t)
  }
}
const top = (m: Map<string, number>, k: number): string => [...m].sort((a, c) => c[1] - a[1]).slice(0, k).map(([name, t]) => `${(100 * t / total).toFixed(1).padStart(5)}%  ${name}`).join('\n')
console.log(`profile: ${join(dir, file)} (${(total / 1e6).toFixed(1)} s sampled)\n\nby package or file:\n${top(byPkg, 25)}\n\nby function:\n${top(byFn, 40)}\n\ninclusive, broker code and persistence:\n${top(new Map([...inclusive].filter(([n]) => /broker\/|session-store|better-sqlite3|zod/.test(n))), 30)}`)
