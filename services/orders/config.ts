import { z } from 'zod'

/** The `orders` config section: where the Orders HTTP API listens. */
export const OrdersConfig = z.strictObject({
  host: z.string().min(1).default('127.0.0.1').describe('Address the Orders API binds (the hub proxies /api/orders to it)'),
  port: z.number().int().min(0).max(65535).default(8081).describe('Orders API port (0 picks a free one)')
}).describe('The Orders service')
export type OrdersConfig = z.infer<typeof OrdersConfig>
