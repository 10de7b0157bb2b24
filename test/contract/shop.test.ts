import { describe, expect, it } from 'vitest'
import { checkPublish, parseTopic, orderFactTopic, customerProfileTopic, notifyFactTopic, CustomerProfile, type HomefactsError } from '#contract'
import { makeFact } from '#client'
import { canPublish, canSubscribe } from '../../broker/acl.ts'

const orderId = '01kb2x9d5v1q8r3s4t5v6w7x8y'
const created = () => makeFact('order.created', {
  subject: `shop/orders/${orderId}`,
  source: 'services/orders',
  seq: 1,
  time: '2026-12-01T20:00:00.000Z',
  data: { orderId, customerId: 'c-7', lines: [{ sku: 'cup-blue', quantity: 2, unitPrice: 450 }], total: 900, currency: 'EUR' }
})

function codeOf (call: () => unknown): string | undefined {
  try { call() } catch (err) { return (err as HomefactsError).code }
  return undefined
}

describe('the shop contract', () => {
  it('accepts an order.created fact on its order topic', () => {
    const fact = created()
    const checked = checkPublish({ topic: orderFactTopic(orderId, 'created'), payload: JSON.stringify(fact) })
    expect(checked.kind).toBe('fact')
    expect(checked.kind === 'fact' && checked.fact.data).toStrictEqual({ orderId, customerId: 'c-7', lines: [{ sku: 'cup-blue', quantity: 2, unitPrice: 450 }], total: 900, currency: 'EUR' })
  })

  it('refuses an upper-case order id, because ids are one lower-case topic level', () => {
    expect(codeOf(() => makeFact('order.paid', { subject: 'shop/orders/X', source: 's', seq: 1, data: { orderId: '01KB2X', customerId: 'c-7', amount: 1, currency: 'EUR' } }))).toBe('HF_DATA')
    expect(() => orderFactTopic('01KB2X', 'paid')).toThrow(TypeError)
  })

  it('refuses an order with no lines or a fractional quantity', () => {
    const base = { orderId, customerId: 'c-7', total: 0, currency: 'EUR' }
    expect(codeOf(() => makeFact('order.created', { subject: `shop/orders/${orderId}`, source: 's', seq: 1, data: { ...base, lines: [] } }))).toBe('HF_DATA')
    expect(codeOf(() => makeFact('order.created', { subject: `shop/orders/${orderId}`, source: 's', seq: 1, data: { ...base, lines: [{ sku: 'a', quantity: 1.5, unitPrice: 1 }] } }))).toBe('HF_DATA')
  })

  it('keeps the contact channels and the seq on the retained profile', () => {
    const profile = { customerId: 'c-7', name: 'Ann', email: 'ann@example.org', phone: '+44 7700 900123', push: ['sub-1'], ntfy: 'ann-phone', seq: 3, updatedAt: '2026-12-01T20:00:00.000Z' }
    const checked = checkPublish({ topic: customerProfileTopic('c-7'), payload: JSON.stringify(profile), retain: true })
    expect(checked).toStrictEqual({ kind: 'profile', topic: { kind: 'profile', subject: 'shop/customers/c-7', customerId: 'c-7' }, profile })
    expect(CustomerProfile.safeParse({ ...profile, seq: undefined }).success).toBe(false)
  })

  it('parses the notification topic family and checks notification.sent there', () => {
    expect(parseTopic('notify/c-7/fact/sent')).toStrictEqual({ kind: 'fact', subject: 'notify/c-7', name: 'sent', recipient: 'c-7' })
    expect(parseTopic('notify/c-7/sent')).toBeNull()
    const fact = makeFact('notification.sent', {
      subject: 'notify/c-7',
      source: 'services/notifications',
      seq: 1,
      causationid: created().id,
      data: { recipient: 'c-7', channel: 'log', address: '+44 7700 900123', message: 'Order received', about: { id: created().id, type: 'order.created', subject: `shop/orders/${orderId}` } }
    })
    expect(checkPublish({ topic: notifyFactTopic('c-7', 'sent'), payload: JSON.stringify(fact) }).kind).toBe('fact')
    expect(codeOf(() => checkPublish({ topic: notifyFactTopic('c-8', 'sent'), payload: JSON.stringify(fact) }))).toBe('HF_SUBJECT_MISMATCH')
  })
})

describe('the shop ACL', () => {
  it('lets services write notifications and members read only their own', () => {
    expect(canPublish({ username: 'notifications', role: 'service' }, 'notify/c-7/fact/sent')).toBe(true)
    expect(canPublish({ username: 'mum', role: 'member', member: 'mum' }, 'notify/mum/fact/sent')).toBe(false)
    expect(canSubscribe({ username: 'mum', role: 'member', member: 'mum' }, 'phone-1', 'notify/mum/#')).toBe(true)
    expect(canSubscribe({ username: 'mum', role: 'member', member: 'mum' }, 'phone-1', 'notify/dad/#')).toBe(false)
  })

  it('gives the shop role read access to the shop and no publish at all', () => {
    expect(canPublish({ username: 'clerk', role: 'shop' }, 'shop/orders/o-1/fact/created')).toBe(false)
    expect(canSubscribe({ username: 'clerk', role: 'shop' }, 'c', 'shop/#')).toBe(true)
    expect(canSubscribe({ username: 'clerk', role: 'shop' }, 'c', 'home/#')).toBe(false)
  })
})
