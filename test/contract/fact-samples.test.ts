import { describe, expect, it } from 'vitest'
import { HomefactsError, registry, validateFact, type FactType } from '#contract'
import { makeFact } from '#client'

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

/** The contract's verdict, as the broker would report it. */
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

describe('the contract\'s check of a fact', () => {
  it('accepts a valid fact of every type, equal to what was sent', () => {
    expect(Object.keys(samples).sort()).toStrictEqual(Object.keys(registry).sort())
    for (const type of Object.keys(registry) as FactType[]) {
      const fact = validFact(type)
      expect(verdict(validateFact, structuredClone(fact)), type).toStrictEqual({ ok: fact })
    }
  })

  it('refuses every broken fact with a coded error that names the field', () => {
    const refusals: Record<string, number> = {}
    for (const type of Object.keys(registry) as FactType[]) {
      for (const [name, breakIt] of breakages) {
        const said = verdict(validateFact, breakIt(validFact(type))) as { ok?: unknown, code?: string, issues?: unknown[] }
        // A data breakage that does not apply to this type's data leaves it valid (an unknown key never does).
        if ('ok' in said) continue
        expect(said.code, `${type}: ${name}`).toMatch(/^HF_(ENVELOPE|UNKNOWN_TYPE|DATA)$/)
        expect(said.issues?.length, `${type}: ${name}`).toBeGreaterThan(0)
        refusals[name] = (refusals[name] ?? 0) + 1
      }
    }
    // Every envelope breakage is refused for every type; each data breakage for at least one.
    for (const [name] of breakages) expect(refusals[name], name).toBeGreaterThan(0)
    expect(refusals['unknown envelope key']).toBe(Object.keys(registry).length)
    expect(refusals['unknown data key']).toBe(Object.keys(registry).length)
  })
})
