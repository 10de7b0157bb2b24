import { z } from 'zod'
import { ShopId } from '../envelope.ts'

/** An order was cancelled before it shipped. */
export const TYPE = 'order.cancelled' as const
export const Schema = z.object({
  orderId: ShopId,
  customerId: ShopId,
  reason: z.string().min(1).optional().describe('Why, in words')
}).strict().describe('An order was cancelled')
export type OrderCancelled = z.infer<typeof Schema>
