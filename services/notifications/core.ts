import type { CustomerProfile, Fact } from '#contract'
import type { Notice } from '../lib/channels/index.ts'

export type { Notice } from '../lib/channels/index.ts'

/** How to reach a customer, as Notifications keeps it: the latest profile it has seen, by seq. */
export type Contact = Omit<CustomerProfile, 'updatedAt'>

/** The order facts Notifications tells customers about. */
export type OrderFact = Fact<'order.created' | 'order.paid' | 'order.shipped' | 'order.cancelled'>

export const isOrderFact = (f: Fact): f is OrderFact =>
  f.type === 'order.created' || f.type === 'order.paid' || f.type === 'order.shipped' || f.type === 'order.cancelled'

/** A contact from a customer fact: the data is the whole profile, the envelope gives the seq. */
export function contactOf (fact: Fact<'customer.created' | 'customer.updated'>): Contact {
  return { ...fact.data, seq: fact.seq }
}

/**
 * The newer of two contacts, or `null` when the incoming one is not newer: Customers is the one
 * source of each customer subject, so a lower or equal seq is a stale or repeated update. Pure.
 */
export function newerContact (current: Contact | undefined, incoming: Contact): Contact | null {
  return current && current.seq >= incoming.seq ? null : incoming
}

const money = (minor: number, currency: string): string => `${(minor / 100).toFixed(2)} ${currency}`

/** What to tell the customer about an order fact. Pure. */
export function noticeFor (fact: OrderFact, contact: Contact): Notice {
  const id = fact.data.orderId
  let message: string
  switch (fact.type) {
    case 'order.created': message = `${contact.name}, we have your order ${id} (${money(fact.data.total, fact.data.currency)})`; break
    case 'order.paid': message = `${contact.name}, your payment of ${money(fact.data.amount, fact.data.currency)} for order ${id} arrived`; break
    case 'order.shipped': message = `${contact.name}, your order ${id} is on its way${fact.data.carrier ? ` with ${fact.data.carrier}` : ''}`; break
    case 'order.cancelled': message = `${contact.name}, your order ${id} was cancelled`; break
  }
  const to = { name: contact.name, ...(contact.phone ? { phone: contact.phone } : {}), ...(contact.email ? { email: contact.email } : {}) }
  return { recipient: contact.customerId, title: `Your order ${id}`, message, priority: 'normal', to, fact: { id: fact.id, type: fact.type, subject: fact.subject } }
}
