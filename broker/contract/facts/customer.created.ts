import { z } from 'zod'
import { ContactChannels, ShopId } from '../envelope.ts'

/** A customer was registered. Published by Customers, which owns the customer subject and its seq. */
export const TYPE = 'customer.created' as const
export const Schema = z.object({
  customerId: ShopId,
  name: z.string().min(1).describe('Name to address the customer by'),
  ...ContactChannels
}).strict().describe('A customer was created')
export type CustomerCreated = z.infer<typeof Schema>
