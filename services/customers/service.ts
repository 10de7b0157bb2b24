import { resolve } from 'node:path'
import type { ShopContext } from '../lib/context.ts'
import type { CustomersConfig } from './config.ts'
import { createCustomers } from './index.ts'

/** The service definition registered in `services/hub/services.ts`. */
export const customersService = {
  name: 'customers',
  describe: 'The Customers HTTP API; customer.* facts and the retained profile through a transactional outbox',
  create: (ctx: ShopContext<{ customers: CustomersConfig }>) => createCustomers({
    config: ctx.config.customers,
    dataDir: resolve(ctx.config.dataDir),
    proxySecret: ctx.proxySecret,
    mqttUrl: ctx.mqttUrl,
    credentials: () => ctx.credentials('customers', { role: 'customers' }),
    log: ctx.log
  })
}
