import { describe, expect, it } from 'vitest'
import { checkFactTime, checkPublish, parseTopic, topicMatches, thingFactTopic, stateTopic, deadletterTopic, HomefactsError, registry, factName } from '#contract'
import { makeFact, newFactId } from '#client'

describe('makeFact', () => {
  it('fills the CloudEvents envelope, validates it and freezes it deeply', () => {
    const f = makeFact('cup.empty', { subject: 'home/kitchen/lily-cup', source: 'devices/kitchen-cup', seq: 42, data: { level: 0.02 }, time: '2026-11-29T14:00:00.000Z' })
    expect(f).toStrictEqual({
      specversion: '1.0',
      id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      type: 'cup.empty',
      source: 'devices/kitchen-cup',
      subject: 'home/kitchen/lily-cup',
      time: '2026-11-29T14:00:00.000Z',
      seq: 42,
      datacontenttype: 'application/json',
      data: { level: 0.02 }
    })
    expect(Object.isFrozen(f)).toBe(true)
    expect(Object.isFrozen(f.data)).toBe(true)
  })

  it('refuses invalid data with HF_DATA and the failing field', () => {
    const call = () => makeFact('cup.filled', { subject: 'home/kitchen/lily-cup', source: 's', seq: 1, data: { level: 2 } })
    expect(call).toThrow(HomefactsError)
    try { call() } catch (err) {
      expect((err as HomefactsError).code).toBe('HF_DATA')
      expect((err as HomefactsError).issues).toStrictEqual([{ path: 'data.level', message: 'Too big: expected number to be <=1' }])
    }
  })

  it('refuses a negative seq with HF_ENVELOPE', () => {
    expect(() => makeFact('cup.empty', { subject: 's', source: 's', seq: -1, data: { level: 0 } })).toThrow(expect.objectContaining({ code: 'HF_ENVELOPE' }))
  })

  it('makes ids that sort by time', () => {
    const a = newFactId(1000)
    const b = newFactId(2000)
    expect(a < b).toBe(true)
  })

  it('makes ULIDs with fresh randomness each millisecond, past many refills of its random pool', () => {
    // 20,000 ids, each in a new millisecond (after any id made so far: one in a millisecond
    // already used only increments the last): 16 random characters each, 320,000 bytes drawn.
    const from = Date.now() + 60_000
    const ids = Array.from({ length: 20_000 }, (_, i) => newFactId(from + i))
    expect(ids.every((id) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id))).toBe(true)
    expect([...ids].sort()).toStrictEqual(ids)
    const randomParts = new Set(ids.map((id) => id.slice(10)))
    expect(randomParts.size).toBe(ids.length)
    // Each of the 32 characters turns up about equally often (625 × 16 = 10,000 of each expected).
    const counts = new Map<string, number>()
    for (const r of randomParts) for (const c of r) counts.set(c, (counts.get(c) ?? 0) + 1)
    expect(counts.size).toBe(32)
    for (const n of counts.values()) expect(Math.abs(n - 10_000)).toBeLessThan(600)
  })
})

describe('topics', () => {
  it('builds and parses every shape in the topic table', () => {
    expect(parseTopic(stateTopic('kitchen', 'lily-cup'))).toStrictEqual({ kind: 'state', subject: 'home/kitchen/lily-cup', area: 'kitchen', thing: 'lily-cup' })
    expect(parseTopic(thingFactTopic('kitchen', 'lily-cup', 'empty'))).toStrictEqual({ kind: 'fact', subject: 'home/kitchen/lily-cup', name: 'empty', area: 'kitchen', thing: 'lily-cup' })
    expect(parseTopic('household/daddy/presence')).toStrictEqual({ kind: 'presence', subject: 'household/daddy', member: 'daddy' })
    expect(parseTopic('household/daddy/fact/decided')).toStrictEqual({ kind: 'fact', subject: 'household/daddy', name: 'decided', member: 'daddy' })
    expect(parseTopic('shop/orders/42/fact/created')).toStrictEqual({ kind: 'fact', subject: 'shop/orders/42', name: 'created', orderId: '42' })
    expect(parseTopic('shop/customers/7/profile')).toStrictEqual({ kind: 'profile', subject: 'shop/customers/7', customerId: '7' })
    expect(parseTopic('shop/customers/7/fact/registered')).toStrictEqual({ kind: 'fact', subject: 'shop/customers/7', name: 'registered', customerId: '7' })
    expect(parseTopic('home/living-room/front-door/availability')).toStrictEqual({ kind: 'availability', subject: 'home/living-room/front-door', area: 'living-room', thing: 'front-door' })
    expect(parseTopic('home/kitchen/lily-cup/claim')).toStrictEqual({ kind: 'claim', subject: 'home/kitchen/lily-cup', area: 'kitchen', thing: 'lily-cup' })
  })

  it('rejects shapes outside the table and non-kebab segments', () => {
    for (const t of ['home/kitchen/lily-cup', 'home/Kitchen/cup/state', 'home/kitchen/cup/fact/empty/extra', 'home/kitchen/cup/fact', 'shop/orders/1/profile', 'household/x', 'home/a_b/c/state',
      'home/kitchen/cup/state/extra', 'home/kitchen/cup/bogus', 'home/kitchen//state', 'home/kitchen/cup-/state', 'home/-kitchen/cup/state', 'home/kitchen/cup/state/',
      'household/daddy/presence/extra', 'household/daddy/fact', 'shop/customers/7/fact', 'shop/customers/7/profile/x', 'shop/orders/1/fact/created/x', 'homes/kitchen/cup/state', '/home/kitchen/cup/state']) {
      expect(parseTopic(t), t).toBeNull()
    }
    expect(() => stateTopic('Kitchen', 'cup')).toThrow('area "Kitchen" is not lower-case kebab-case')
  })

  it('matches MQTT filters as a broker does', () => {
    expect(topicMatches('home/+/+/fact/+', 'home/kitchen/cup/fact/empty')).toBe(true)
    expect(topicMatches('home/#', 'home')).toBe(true)
    expect(topicMatches('home/+', 'home/a/b')).toBe(false)
    expect(topicMatches('home/kitchen/#', 'home/hall/cup/state')).toBe(false)
  })

  it('keeps a dead-letter topic one level whatever the client id', () => {
    expect(deadletterTopic('a/b+c#')).toBe('homefacts/deadletter/a_b_c_')
  })
})

describe('checkPublish', () => {
  const fact = makeFact('cup.empty', { subject: 'home/kitchen/lily-cup', source: 's', seq: 1, data: { level: 0 } })
  it('returns the parsed fact for a valid fact', () => {
    const r = checkPublish({ topic: 'home/kitchen/lily-cup/fact/empty', payload: Buffer.from(JSON.stringify(fact)) })
    expect(r).toStrictEqual({ kind: 'fact', topic: parseTopic('home/kitchen/lily-cup/fact/empty'), fact })
  })
  it('accepts an empty retained claim as a clear', () => {
    expect(checkPublish({ topic: 'home/kitchen/lily-cup/claim', payload: '', retain: true })).toMatchObject({ kind: 'claim', claim: null })
  })
  it('checks availability and presence values', () => {
    expect(() => checkPublish({ topic: 'home/kitchen/lily-cup/availability', payload: 'maybe', retain: true })).toThrow(expect.objectContaining({ code: 'HF_PAYLOAD' }))
    expect(checkPublish({ topic: 'household/mummy/presence', payload: 'busy', retain: true })).toMatchObject({ presence: 'busy' })
  })
})

describe('the registry', () => {
  it('publishes every type under the name its type ends with', () => {
    for (const type of Object.keys(registry)) expect(type.endsWith(`.${factName(type)}`)).toBe(true)
  })
})

describe('checkFactTime', () => {
  const now = Date.parse('2026-12-01T12:00:00.000Z')
  const at = (time: string) => makeFact('cup.empty', { subject: 'home/kitchen/lily-cup', source: 'devices/kitchen-cup', seq: 1, data: { level: 0 }, time })
  const code = (time: string): string | undefined => {
    try {
      checkFactTime(at(time), now)
    } catch (err) {
      return (err as HomefactsError).code
    }
  }

  it('passes a fact up to 24 hours ahead of the broker, and any fact since 2000 (an old one from an outbox)', () => {
    expect(code('2026-12-02T12:00:00.000Z')).toBeUndefined()
    expect(code('2000-01-01T00:00:00.000Z')).toBeUndefined()
    expect(code('2026-12-01T12:00:00.000Z')).toBeUndefined()
  })

  it('refuses with HF_TIME a fact more than 24 hours ahead, or from before 2000 (a clock never set)', () => {
    expect(code('2026-12-02T12:00:00.001Z')).toBe('HF_TIME')
    expect(code('9999-12-31T23:59:59.999Z')).toBe('HF_TIME')
    expect(code('1999-12-31T23:59:59.999Z')).toBe('HF_TIME')
    expect(code('1970-01-01T00:00:00.000Z')).toBe('HF_TIME')
    expect(code('0001-01-01T00:00:00.000Z')).toBe('HF_TIME')
  })
})
