import { z } from 'zod'
import { Codes, HomefactsError, OrderCreated, ShopId, type FactMap } from '#contract'

/** The body of `POST /api/orders`: the order's own fields come from the contract's schema. */
export const NewOrder = z.strictObject({
  customerId: ShopId,
  lines: OrderCreated.Schema.shape.lines,
  currency: OrderCreated.Schema.shape.currency
})
export type NewOrder = z.infer<typeof NewOrder>

export const OrderStatus = z.enum(['created', 'paid', 'shipped', 'cancelled'])
export type OrderStatus = z.infer<typeof OrderStatus>

/** An order as the API answers it and the store keeps it. `seq` is the seq of its last fact. */
export interface Order {
  id: string
  customerId: string
  lines: NewOrder['lines']
  total: number
  currency: string
  status: OrderStatus
  seq: number
  createdAt: string
  updatedAt: string
}

export const Action = z.enum(['pay', 'ship', 'cancel'])
export type Action = z.infer<typeof Action>

/** The optional body of `POST /api/orders/:id/<action>`. */
export const ActionBody = z.strictObject({
  carrier: z.string().min(1).optional(),
  trackingId: z.string().min(1).optional(),
  reason: z.string().min(1).optional()
})
export type ActionBody = z.infer<typeof ActionBody>

type OrderFactType = 'order.created' | 'order.paid' | 'order.shipped' | 'order.cancelled'
/** A fact the core wants told, with the seq it takes on the order's subject. */
export type OrderEvent = { [T in OrderFactType]: { type: T, seq: number, data: FactMap[T] } }[OrderFactType]

/** Which status each action needs and leads to. */
const TRANSITIONS: Record<Action, { from: readonly OrderStatus[], to: OrderStatus }> = {
  pay: { from: ['created'], to: 'paid' },
  ship: { from: ['paid'], to: 'shipped' },
  cancel: { from: ['created', 'paid'], to: 'cancelled' }
}

/** A new order and its `order.created` fact (seq 1: the order's subject is new). Pure. */
export function createOrder (input: NewOrder, id: string, now: Date): { order: Order, event: OrderEvent } {
  const total = input.lines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0)
  const at = now.toISOString()
  const order: Order = { id, customerId: input.customerId, lines: input.lines, total, currency: input.currency, status: 'created', seq: 1, createdAt: at, updatedAt: at }
  return { order, event: { type: 'order.created', seq: 1, data: { orderId: id, customerId: input.customerId, lines: input.lines, total, currency: input.currency } } }
}

/**
 * Applies an action to an order. Throws `HF_STATE_CONFLICT` when its status does not allow it
 * (shipping an unpaid order, paying a cancelled one). Pure.
 */
export function applyAction (order: Order, action: Action, body: ActionBody, now: Date): { order: Order, event: OrderEvent } {
  const t = TRANSITIONS[action]
  if (!t.from.includes(order.status)) {
    throw new HomefactsError(Codes.STATE_CONFLICT, `cannot ${action} an order that is ${order.status}`, [{ path: 'status', message: `must be ${t.from.join(' or ')}` }])
  }
  const seq = order.seq + 1
  const next: Order = { ...order, status: t.to, seq, updatedAt: now.toISOString() }
  const ids = { orderId: order.id, customerId: order.customerId }
  switch (action) {
    case 'pay': return { order: next, event: { type: 'order.paid', seq, data: { ...ids, amount: order.total, currency: order.currency } } }
    case 'ship': return { order: next, event: { type: 'order.shipped', seq, data: { ...ids, ...(body.carrier ? { carrier: body.carrier } : {}), ...(body.trackingId ? { trackingId: body.trackingId } : {}) } } }
    case 'cancel': return { order: next, event: { type: 'order.cancelled', seq, data: { ...ids, ...(body.reason ? { reason: body.reason } : {}) } } }
  }
}
