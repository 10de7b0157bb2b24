import { describe, expect, it } from 'vitest'
import { applyAction, createOrder } from '../../services/orders/core.ts'
import { createCustomer, updateCustomer } from '../../services/customers/core.ts'
import { newerContact } from '../../services/notifications/core.ts'

const now = new Date('2026-12-01T20:00:00.000Z')
const later = new Date('2026-12-01T20:05:00.000Z')

describe('the shop cores', () => {
  it('totals an order in minor units and tells it as order.created at seq 1', () => {
    const { order, event } = createOrder({ customerId: 'c-7', lines: [{ sku: 'a', quantity: 3, unitPrice: 199 }, { sku: 'b', quantity: 1, unitPrice: 1 }], currency: 'EUR' }, 'o-1', now)
    expect(order).toStrictEqual({ id: 'o-1', customerId: 'c-7', lines: [{ sku: 'a', quantity: 3, unitPrice: 199 }, { sku: 'b', quantity: 1, unitPrice: 1 }], total: 598, currency: 'EUR', status: 'created', seq: 1, createdAt: now.toISOString(), updatedAt: now.toISOString() })
    expect(event).toStrictEqual({ type: 'order.created', seq: 1, data: { orderId: 'o-1', customerId: 'c-7', lines: order.lines, total: 598, currency: 'EUR' } })
  })

  it('moves an order created → paid → shipped, and refuses cancelling a shipped one with HF_STATE_CONFLICT', () => {
    const { order } = createOrder({ customerId: 'c-7', lines: [{ sku: 'a', quantity: 1, unitPrice: 10 }], currency: 'EUR' }, 'o-1', now)
    const paid = applyAction(order, 'pay', {}, later)
    expect(paid.event).toStrictEqual({ type: 'order.paid', seq: 2, data: { orderId: 'o-1', customerId: 'c-7', amount: 10, currency: 'EUR' } })
    const shipped = applyAction(paid.order, 'ship', { trackingId: 't-1' }, later)
    expect([shipped.order.status, shipped.order.seq, shipped.event]).toStrictEqual(['shipped', 3, { type: 'order.shipped', seq: 3, data: { orderId: 'o-1', customerId: 'c-7', trackingId: 't-1' } }])
    expect(() => applyAction(shipped.order, 'cancel', {}, later)).toThrow(expect.objectContaining({ code: 'HF_STATE_CONFLICT' }))
    expect(applyAction(order, 'cancel', { reason: 'changed mind' }, later).event).toStrictEqual({ type: 'order.cancelled', seq: 2, data: { orderId: 'o-1', customerId: 'c-7', reason: 'changed mind' } })
  })

  it('replaces a customer profile whole and grows its seq', () => {
    const { customer } = createCustomer({ name: 'Ann', phone: '+44 7700 900123', email: undefined }, 'c-7', now)
    expect(customer).toStrictEqual({ customerId: 'c-7', name: 'Ann', phone: '+44 7700 900123', seq: 1, updatedAt: now.toISOString() })
    const next = updateCustomer(customer, { name: 'Ann', email: 'ann@example.org' }, later)
    expect(next).toStrictEqual({
      customer: { customerId: 'c-7', name: 'Ann', email: 'ann@example.org', seq: 2, updatedAt: later.toISOString() },
      event: { type: 'customer.updated', data: { customerId: 'c-7', name: 'Ann', email: 'ann@example.org' } }
    })
  })

  it('keeps a contact only when its seq is higher than the one held', () => {
    const v2 = { customerId: 'c-7', name: 'Ann', phone: '+2', seq: 2 }
    expect(newerContact(undefined, v2)).toStrictEqual(v2)
    expect(newerContact(v2, { ...v2, phone: '+1', seq: 1 })).toBeNull()
    expect(newerContact(v2, { ...v2 })).toBeNull()
    expect(newerContact(v2, { ...v2, phone: '+3', seq: 3 })).toStrictEqual({ ...v2, phone: '+3', seq: 3 })
  })
})
