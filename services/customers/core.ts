import { z } from 'zod'
import { CustomerCreated, type CustomerProfile, type FactMap } from '#contract'

/** The body of `POST /api/customers` and `PUT /api/customers/:id`: the whole profile, from the contract. */
export const CustomerInput = CustomerCreated.Schema.omit({ customerId: true })
export type CustomerInput = z.infer<typeof CustomerInput>

/** A customer as the API answers it and the store keeps it: the retained profile itself. */
export type Customer = CustomerProfile

export type CustomerEvent =
  | { type: 'customer.created', data: FactMap['customer.created'] }
  | { type: 'customer.updated', data: FactMap['customer.updated'] }

/** Keeps only the channels that are set, so the fact and the profile carry no `undefined`. */
function channels (input: CustomerInput): CustomerInput {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as CustomerInput
}

/** A new customer at seq 1 and its `customer.created` fact. Pure. */
export function createCustomer (input: CustomerInput, id: string, now: Date): { customer: Customer, event: CustomerEvent } {
  const fields = channels(input)
  const customer: Customer = { customerId: id, ...fields, seq: 1, updatedAt: now.toISOString() }
  return { customer, event: { type: 'customer.created', data: { customerId: id, ...fields } } }
}

/**
 * Replaces a customer's profile. The seq grows by one: Customers is the one source of the
 * customer's subject, so consumers tell a stale profile from a new one by it. Pure.
 */
export function updateCustomer (current: Customer, input: CustomerInput, now: Date): { customer: Customer, event: CustomerEvent } {
  const fields = channels(input)
  const customer: Customer = { customerId: current.customerId, ...fields, seq: current.seq + 1, updatedAt: now.toISOString() }
  return { customer, event: { type: 'customer.updated', data: { customerId: current.customerId, ...fields } } }
}
