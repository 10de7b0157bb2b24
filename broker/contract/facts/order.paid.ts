import { z } from 'zod'
import { ShopId } from '../envelope.ts'

/** An order was paid. Carries the customer, so a consumer needs no lookup to say whom it concerns. */
export const TYPE = 'order.paid' as const
export const Schema = z.object({
  orderId: ShopId,
  customerId: ShopId,
  amount: z.number().int().nonnegative().describe('Amount paid, in minor units'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like "EUR"')
}).strict().describe('An order was paid')
export type OrderPaid = z.infer<typeof Schema>
