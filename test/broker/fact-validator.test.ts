import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { Envelope, HomefactsError, makeFact, registry, validateFact, type FactType } from '#contract'
import { exactJsonSchema, factValidator, type FactChecks, type FactValidator } from '../../broker/fact-validator.ts'
import { factChecks, factChecksModule } from '../../broker/fact-checks.ts'

/** One valid `data` per fact type; a new type without a sample fails the first test. */
const samples: Record<FactType, unknown> = {
  'cup.empty': { level: 0.02, raw: 103 },
  'cup.filled': { level: 0.95 },
  'household.decided': { member: 'mom', decision: 'claim', reason: 'open', detail: 'free to act', fact: { id: '01KB0000000000000000000000', type: 'cup.empty', subject: 'home/kitchen/lily-cup', seq: 3 } },
  'household.offered': { member: 'mom', factId: '01KB0000000000000000000000', factType: 'cup.empty', factSeq: 3, subject: 'home/kitchen/lily-cup', priority: 'normal', detail: 'asking mom' },
  'household.offer-withdrawn': { member: 'mom', factId: '01KB0000000000000000000000', subject: 'home/kitchen/lily-cup', reason: 'claimed', detail: 'claimed by dad' },
  'household.escalated': { member: 'dad', factId: '01KB0000000000000000000000', factType: 'cup.empty', factSeq: 3, subject: 'home/kitchen/lily-cup', step: 1, priority: 'high', due: '2026-11-29T17:00:00.000Z', detail: 'nobody claimed it' },
  'button.pressed': { raw: 1 },
  'button.released': {},
  'door.opened': { raw: 0 },
  'door.closed': {},
  'motion.detected': { raw: 1 },
  'motion.cleared': {},
  'order.created': { orderId: '01kb0000000000000000000000', customerId: 'c-7', lines: [{ sku: 'cup-blue', quantity: 2, unitPrice: 450 }], total: 900, currency: 'EUR' },
  'order.paid': { orderId: 'o-1', customerId: 'c-7', amount: 900, currency: 'EUR' },
  'order.shipped': { orderId: 'o-1', customerId: 'c-7', carrier: 'dhl' },
  'order.cancelled': { orderId: 'o-1', customerId: 'c-7' },
  'customer.created': { customerId: 'c-7', name: 'Ann', email: 'ann@example.org', phone: '+44 7700 900123', push: ['p1'], ntfy: 'ann' },
  'customer.updated': { customerId: 'c-7', name: 'Ann', phone: '+44 7700 900999' },
  'notification.sent': { recipient: 'c-7', channel: 'log', address: '+44 7700 900123', message: 'hi', about: { id: '01KB0000000000000000000000', type: 'order.created', subject: 'shop/orders/o-1' } },
  'notification.failed': { recipient: 'mummy', channel: 'ntfy', address: 'https://ntfy.example/mummy', message: 'hi', reason: 'ntfy answered 500', attempts: 6, about: { id: '01KB0000000000000000000000', type: 'household.escalated', subject: 'household/mummy' } },
  'notification.withdrawn': { recipient: 'mummy', channel: 'push', address: 'https://push.example/x', reason: 'resolved', detail: 'the cup was filled', about: { id: '01KB0000000000000000000000', type: 'household.escalated', subject: 'household/mummy' } },
  'household.claimed': { factId: '01KB0000000000000000000000', subject: 'home/kitchen/lily-cup', by: 'mummy', at: '2026-11-29T17:00:00.000Z' },
  'alert.raised': { reason: 'door-opened-while-away', severity: 'warning', detail: 'the front door opened while everyone is away', about: { factId: '01KB0000000000000000000000', factType: 'door.opened', subject: 'home/hall/front-door' } }
}

const validFact = (type: FactType): Record<string, unknown> =>
  JSON.parse(JSON.stringify(makeFact(type, { subject: 'home/kitchen/lily-cup', source: 'devices/kitchen-lily-cup', seq: 7, data: samples[type] as never }))) as Record<string, unknown>

/** zod's verdict, as the broker would report it. */
function verdict (validate: (v: unknown) => unknown, value: unknown): unknown {
  try {
    return { ok: validate(value) }
  } catch (err) {
    if (!(err instanceof HomefactsError)) throw err
    return { code: err.code, message: err.message, issues: err.issues }
  }
}

/** Ways to break a valid fact: each returns a changed copy. */
const breakages: [string, (f: Record<string, unknown>) => unknown][] = [
  ['not an object', () => 'cup'],
  ['null', () => null],
  ['an array', (f) => [f]],
  ['unknown envelope key', (f) => ({ ...f, extra: 1 })],
  ['no id', ({ id, ...f }) => f],
  ['id not a ULID', (f) => ({ ...f, id: '01kb0000000000000000000000' })],
  ['id one short', (f) => ({ ...f, id: '01KB000000000000000000000' })],
  ['specversion 1.1', (f) => ({ ...f, specversion: '1.1' })],
  ['type not dotted', (f) => ({ ...f, type: 'cup' })],
  ['unknown type', (f) => ({ ...f, type: 'cup.overflowed' })],
  ['empty source', (f) => ({ ...f, source: '' })],
  ['subject a number', (f) => ({ ...f, subject: 7 })],
  ['time without offset', (f) => ({ ...f, time: '2026-11-29T17:00:00' })],
  ['time on 30 February', (f) => ({ ...f, time: '2026-02-30T17:00:00Z' })],
  ['time a date only', (f) => ({ ...f, time: '2026-11-29' })],
  ['seq negative', (f) => ({ ...f, seq: -1 })],
  ['seq fractional', (f) => ({ ...f, seq: 1.5 })],
  ['seq beyond safe integers', (f) => ({ ...f, seq: 2 ** 53 })],
  ['seq a string', (f) => ({ ...f, seq: '7' })],
  ['datacontenttype text', (f) => ({ ...f, datacontenttype: 'text/plain' })],
  ['causationid not a ULID', (f) => ({ ...f, causationid: 'x' })],
  ['no data', ({ data, ...f }) => f],
  ['data null', (f) => ({ ...f, data: null })],
  ['data an array', (f) => ({ ...f, data: [] })],
  ['unknown data key', (f) => ({ ...f, data: { ...(f.data as object), extra: true } })],
  ['level above 1', (f) => ({ ...f, data: { ...(f.data as object), level: 1.5 } })],
  ['level a string', (f) => ({ ...f, data: { ...(f.data as object), level: '0.5' } })],
  ['raw a string', (f) => ({ ...f, data: { ...(f.data as object), raw: 'high' } })],
  ['member empty', (f) => ({ ...f, data: { ...(f.data as object), member: '' } })],
  ['member one astral character', (f) => ({ ...f, data: { ...(f.data as object), member: '\u{1F600}' } })],
  ['decision unknown', (f) => ({ ...f, data: { ...(f.data as object), decision: 'maybe' } })],
  ['step 0', (f) => ({ ...f, data: { ...(f.data as object), step: 0 } })],
  ['due without offset', (f) => ({ ...f, data: { ...(f.data as object), due: '2026-11-29T17:00:00' } })],
  ['nested fact with extra key', (f) => ({ ...f, data: { ...(f.data as object), fact: { id: 'a', type: 'b', subject: 'c', seq: 1, x: 1 } } })]
]

/**
 * The same cases for the checks ajv compiles at start (run from TypeScript) and for the module the
 * build puts in their place (`factChecksModule()`, ajv's standalone code), imported from a file.
 */
const kinds: [string, () => Promise<FactChecks>][] = [
  ['compiled at start', async () => factChecks()],
  ['precompiled by the build', async () => {
    // Under node_modules, so the module's import of ajv's runtime resolves as it does in dist/.
    const dir = mkdtempSync(join(import.meta.dirname, '..', '..', 'node_modules', '.fact-checks-'))
    afterAll(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'fact-checks.mjs')
    writeFileSync(file, factChecksModule())
    const mod = await import(pathToFileURL(file).href) as { factChecks: () => FactChecks }
    return mod.factChecks()
  }]
]

describe.each(kinds)('the broker fact validator, %s', (_kind, load) => {
  let fast: FactValidator
  beforeAll(async () => { fast = factValidator(await load()) })

  it('has a check for the envelope and every fact type', async () => {
    const checks = await load()
    expect(checks.envelope).toBeTypeOf('function')
    expect([...checks.data.keys()].sort()).toStrictEqual(Object.keys(registry).sort())
  })


  it('has an exact JSON Schema for the envelope and every fact type, so every fact takes the fast path', () => {
    expect(Object.keys(samples).sort()).toStrictEqual(Object.keys(registry).sort())
    expect(exactJsonSchema(Envelope)).not.toBeNull()
    for (const [type, def] of Object.entries(registry)) expect(exactJsonSchema(def.Schema), type).not.toBeNull()
  })

  it('accepts a valid fact of every type as it is, with no copy, equal to what zod returns', () => {
    for (const type of Object.keys(registry) as FactType[]) {
      const fact = validFact(type)
      const zodSays = validateFact(structuredClone(fact))
      expect(fast(fact), type).toBe(fact)
      expect(fact, type).toStrictEqual(zodSays)
    }
  })

  it('accepts and refuses exactly as zod does, with the same coded error', () => {
    let refused = 0
    for (const type of Object.keys(registry) as FactType[]) {
      for (const [name, breakIt] of breakages) {
        const broken = breakIt(validFact(type))
        const expected = verdict(validateFact, structuredClone(broken))
        expect(verdict(fast, structuredClone(broken)), `${type}: ${name}`).toStrictEqual(expected)
        if (!('ok' in (expected as object))) refused++
      }
    }
    // Most breakages apply to every type; the data ones to some.
    expect(refused).toBeGreaterThan(Object.keys(registry).length * 20)
  })

})

describe('the JSON Schemas behind the fact checks', () => {
  it('has no exact JSON Schema for what JSON Schema cannot say, so zod alone checks those', () => {
    const inexact: [string, z.ZodType][] = [
      ['a refinement', z.strictObject({ a: z.string().refine((s) => s !== 'x') })],
      ['a transform', z.strictObject({ a: z.string().transform((s) => s.length) })],
      ['a default', z.strictObject({ a: z.number().default(1) })],
      ['coercion', z.strictObject({ a: z.coerce.number() })],
      ['a stripped key', z.object({ a: z.number() })],
      ['a trimmed string', z.strictObject({ a: z.string().trim() })],
      ['a URL', z.strictObject({ a: z.url() })],
      ['a case-insensitive pattern', z.strictObject({ a: z.string().regex(/^ab$/i) })],
      ['a multiple of', z.strictObject({ a: z.number().multipleOf(0.1) })],
      ['a pipe', z.strictObject({ a: z.string().pipe(z.string().min(2)) })],
      ['a date', z.strictObject({ a: z.date() })],
      ['a maximum length (counted in code points by JSON Schema)', z.strictObject({ a: z.string().max(3) })]
    ]
    for (const [what, schema] of inexact) expect(exactJsonSchema(schema), what).toBeNull()
    expect(exactJsonSchema(z.strictObject({ a: z.string().min(1), b: z.int().nonnegative().optional(), c: z.enum(['x', 'y']), d: z.iso.datetime({ offset: true }), e: z.looseObject({}) }))).not.toBeNull()
  })
})
