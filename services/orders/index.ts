import type { ShopContext } from '../lib/context.ts'
import type { HttpProducer, ProducerOptions } from '../lib/producer.ts'
import { shopProducer } from '../lib/shop.ts'
import { OrderStore } from './store.ts'
import { orderRoutes } from './api.ts'
import type { OrdersConfig } from './config.ts'

/** The Orders service: HTTP in, `order.*` facts out through its outbox. */
export function createOrders (ctx: ShopContext<{ orders: OrdersConfig }>, extra: Pick<ProducerOptions, 'protocolVersion'> = {}): HttpProducer {
  return shopProducer('orders', ctx, (db) => {
    const store = new OrderStore(db)
    return { outbox: store.outbox, routes: orderRoutes(store) }
  }, extra)
}

/** The service definition registered in `services/hub/services.ts`. */
export const ordersService = {
  name: 'orders',
  describe: 'The Orders HTTP API; order.* facts through a transactional outbox',
  create: createOrders
}
