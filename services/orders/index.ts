import { join } from 'node:path'
import type { Logger } from 'pino'
import { HttpProducer } from '../lib/producer.ts'
import { OrderStore } from './store.ts'
import { orderRoutes } from './api.ts'
import type { OrdersConfig } from './config.ts'

export { OrdersConfig } from './config.ts'
export { createOrder, applyAction } from './core.ts'

export interface OrdersOptions {
  config: OrdersConfig
  /** Folder of `orders.sqlite`. */
  dataDir: string
  /** The secret the hub's proxy sends (`services/lib/http.ts`). */
  proxySecret: string | undefined
  mqttUrl: string
  credentials: () => Promise<{ username: string, password?: string }>
  /** MQTT 5 by default; 4 for a 3.1.1-only broker. */
  protocolVersion?: 4 | 5
  log: Logger
}

/** The Orders service: HTTP in, `order.*` facts out through its outbox. */
export function createOrders (opts: OrdersOptions): HttpProducer {
  return new HttpProducer({
    name: 'orders',
    dbFile: join(opts.dataDir, 'orders.sqlite'),
    proxySecret: opts.proxySecret,
    mqttUrl: opts.mqttUrl,
    credentials: opts.credentials,
    ...(opts.protocolVersion ? { protocolVersion: opts.protocolVersion } : {}),
    log: opts.log,
    host: opts.config.host,
    port: opts.config.port,
    portKey: 'orders.port',
    build: (db) => {
      const store = new OrderStore(db)
      return { outbox: store.outbox, routes: orderRoutes(store) }
    }
  })
}
