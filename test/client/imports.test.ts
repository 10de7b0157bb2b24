import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const DIR = join(import.meta.dirname, '..', '..', 'client')

describe('the client library', () => {
  it('imports only #contract, zod, ulid, the types of mqtt.js and its own files (never services/ or broker/)', () => {
    const imports = readdirSync(DIR).filter((f) => f.endsWith('.ts')).flatMap((file) => {
      const text = readFileSync(join(DIR, file), 'utf8')
      return [...text.matchAll(/^(import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)].map((m) => ({ file, typeOnly: m[2] !== undefined, from: m[3]! }))
    })
    const allowed = imports.filter(({ from, typeOnly }) => from === '#contract' || from === 'zod' || from === 'ulid' || (from === 'mqtt' && typeOnly) || /^\.\/[\w-]+\.ts$/.test(from))
    expect(imports.length).toBeGreaterThan(0)
    expect(imports.filter((i) => !allowed.includes(i))).toStrictEqual([])
  })
})
