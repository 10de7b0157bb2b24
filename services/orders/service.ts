import { resolve } from 'node:path'
import type { ShopContext } from '../lib/context.ts'
import type { OrdersConfig } from './config.ts'
import { createOrders } from './index.ts'

/** The service definition registered in `services/hub/services.ts`. */
export const ordersService = {
  name: 'orders',
  describe: 'The Orders HTTP API; order.* facts through a transactional outbox',
  create: (ctx: ShopContext<{ orders: OrdersConfig }>) => createOrders({
    config: ctx.config.orders,
    dataDir: resolve(ctx.config.dataDir),
    proxySecret: ctx.proxySecret,
    mqttUrl: ctx.mqttUrl,
    credentials: () => ctx.credentials('orders', { role: 'orders' }),
    log: ctx.log
  })
}
