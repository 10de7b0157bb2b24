import { z } from 'zod'
import { ShopId } from '../envelope.ts'

/** One line of an order. Money is in minor units (cents), so totals add up exactly. */
export const Line = z.object({
  sku: z.string().min(1).describe('Stock keeping unit'),
  quantity: z.number().int().positive().describe('How many'),
  unitPrice: z.number().int().nonnegative().describe('Price of one, in minor units of the currency')
}).strict()
export type Line = z.infer<typeof Line>

/** A customer placed an order. Published by Orders on `shop/orders/<orderId>/fact/created`. */
export const TYPE = 'order.created' as const
export const Schema = z.object({
  orderId: ShopId,
  customerId: ShopId,
  lines: z.array(Line).min(1).describe('What was ordered'),
  total: z.number().int().nonnegative().describe('Sum of quantity × unitPrice, in minor units'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like "EUR"').describe('ISO 4217 currency code')
}).strict().describe('An order was created')
export type OrderCreated = z.infer<typeof Schema>
