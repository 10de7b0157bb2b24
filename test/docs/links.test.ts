import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '..', '..')
const DOCS = [join(ROOT, 'README.md'), ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f))]

/** The text outside fenced code blocks, line for line (a fenced line becomes empty). */
function prose (markdown: string): string[] {
  let fence: string | null = null
  return markdown.split('\n').map((line) => {
    const open = /^\s*(```|~~~)/.exec(line)?.[1]
    if (fence) {
      if (open === fence) fence = null
      return ''
    }
    if (open) {
      fence = open
      return ''
    }
    return line
  })
}

/**
 * GitHub's anchor for a heading: the text as rendered (links by their text, code without its
 * backticks), lower-cased, with every character but letters, numbers, spaces, `-` and `_`
 * removed, and each space a `-` (the rules of github-slugger, which github.com follows). A
 * repeated heading gets `-1`, `-2`, ... in order.
 */
function anchors (markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const line of prose(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1]
    if (heading === undefined) continue
    const text = heading.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '')
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

/** Every inline link and image target outside code, with the line it is on. */
function links (markdown: string): { target: string, line: number }[] {
  return prose(markdown).flatMap((line, i) => {
    const text = line.replace(/`[^`]*`/g, '')
    return [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => ({ target: m[1]!, line: i + 1 }))
  })
}

/** What is wrong with a relative link from `file`, or null when it resolves. */
function broken (file: string, target: string): string | null {
  const [path = '', anchor] = target.split('#')
  const to = path === '' ? file : resolve(dirname(file), decodeURIComponent(path))
  if (!existsSync(to)) return `no file ${relative(ROOT, to)}`
  if (anchor === undefined) return null
  if (!to.endsWith('.md') || statSync(to).isDirectory()) return `#${anchor} in a file that is not markdown`
  return anchors(readFileSync(to, 'utf8')).has(decodeURIComponent(anchor)) ? null : `no heading #${anchor} in ${relative(ROOT, to)}`
}

/** Source folders whose comments and messages may cite the docs. */
const SOURCES = ['bin', 'broker', 'client', 'devices', 'estate', 'services', 'flows', 'scripts', 'test', 'bench', 'experiments', '.ci']
/** Build output and installed packages, not sources. */
const SKIP = new Set(['node_modules', 'dist', join('flows', 'nodes', 'lib')])

function sourceFiles (dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (SKIP.has(e.name) || SKIP.has(path)) return []
    if (e.isDirectory()) return sourceFiles(path)
    return /\.(ts|js|mjs|cjs|html|md)$/.test(e.name) || dir === '.ci' ? [path] : []
  })
}

describe('the documentation', () => {
  it('has every relative link in README.md and docs/*.md point at a file, and every #anchor at a heading', () => {
    const bad = DOCS.flatMap((file) => links(readFileSync(file, 'utf8'))
      .filter(({ target }) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
      .map(({ target, line }) => ({ at: `${relative(ROOT, file)}:${line}`, target, problem: broken(file, target) }))
      .filter((l) => l.problem !== null))
    expect(bad).toStrictEqual([])
  })

  it('has every doc and section the code cites: docs/<page>.md, and a "Heading" quoted after it', () => {
    const cited = SOURCES.flatMap(sourceFiles).flatMap((file) => {
      // A comment's lines joined, so a citation may wrap.
      const text = readFileSync(join(ROOT, file), 'utf8').replace(/\n\s*(?:\*|\/\/|#)?\s*/g, ' ')
      return [...text.matchAll(/(?<![\w/.-])(docs\/[\w.-]+\.md|patches\/README\.md|README(?:\.md)?)(?:,\s*|\s*\(\s*)?(?:"([^"]+)")?/g)]
        .map((m) => ({ file, doc: m[1]!.startsWith('README') ? 'README.md' : m[1]!, section: m[2] }))
    })
    expect(cited.length).toBeGreaterThan(10)
    const bad = cited.filter(({ doc, section }) => {
      const path = join(ROOT, doc)
      if (!existsSync(path)) return true
      if (section === undefined) return false
      const slug = [...anchors(`# ${section}`)][0]!
      return !anchors(readFileSync(path, 'utf8')).has(slug)
    })
    expect(bad).toStrictEqual([])
  })
})

describe('anchors', () => {
  it('follows GitHub: punctuation and code marks dropped, spaces to hyphens, repeats numbered', () => {
    expect([...anchors('# `$SYS` stats\n## Durability: what a PUBACK promises\n## 1 → 1 at 500/s\n### Notes\n### Notes\n```\n# not a heading\n```')])
      .toStrictEqual(['sys-stats', 'durability-what-a-puback-promises', '1--1-at-500s', 'notes', 'notes-1'])
  })
})
