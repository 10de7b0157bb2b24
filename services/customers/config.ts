import { z } from 'zod'

/** The `customers` config section: where the Customers HTTP API listens. */
export const CustomersConfig = z.strictObject({
  host: z.string().min(1).default('127.0.0.1').describe('Address the Customers API binds (the hub proxies /api/customers to it)'),
  port: z.number().int().min(0).max(65535).default(8082).describe('Customers API port (0 picks a free one)')
}).describe('The Customers service')
export type CustomersConfig = z.infer<typeof CustomersConfig>
