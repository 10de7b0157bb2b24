import { z } from 'zod'
import { ContactChannels, ShopId } from '../envelope.ts'

/**
 * A customer's name or contact channels changed. The data is the whole new profile, not a diff,
 * so the latest fact (by seq) alone says how to reach the customer.
 */
export const TYPE = 'customer.updated' as const
export const Schema = z.object({
  customerId: ShopId,
  name: z.string().min(1).describe('Name to address the customer by'),
  ...ContactChannels
}).strict().describe('A customer was updated')
export type CustomerUpdated = z.infer<typeof Schema>
