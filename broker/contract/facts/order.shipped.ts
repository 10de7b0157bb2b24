import { z } from 'zod'
import { ShopId } from '../envelope.ts'

/** An order left the warehouse. */
export const TYPE = 'order.shipped' as const
export const Schema = z.object({
  orderId: ShopId,
  customerId: ShopId,
  carrier: z.string().min(1).optional().describe('Who carries it'),
  trackingId: z.string().min(1).optional().describe("The carrier's tracking id")
}).strict().describe('An order was shipped')
export type OrderShipped = z.infer<typeof Schema>
