import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Role } from '../../broker/index.ts'
import { FAMILIES, MATRIX, actual, renderMatrix } from './acl-matrix.ts'

describe('the ACL matrix', () => {
  it.each(Role.options)('role %s gets exactly what the matrix says on every topic family', (role) => {
    expect(FAMILIES.map(([name, topics]) => [name, actual(role, topics)])).toStrictEqual(FAMILIES.map(([name], i) => [name, MATRIX[role][i]]))
  })

  it('is the table in docs/broker.md, between its acl-matrix markers', () => {
    const doc = readFileSync(new URL('../../docs/broker.md', import.meta.url), 'utf8')
    const block = /<!-- acl-matrix -->\n([\s\S]*?)\n<!-- \/acl-matrix -->/.exec(doc)?.[1]
    expect(block).toBe(renderMatrix())
  })
})
