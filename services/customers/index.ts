import { join } from 'node:path'
import type { Logger } from 'pino'
import { HttpProducer } from '../lib/producer.ts'
import { CustomerStore } from './store.ts'
import { customerRoutes } from './api.ts'
import type { CustomersConfig } from './config.ts'

export { CustomersConfig } from './config.ts'

export interface CustomersOptions {
  config: CustomersConfig
  /** Folder of `customers.sqlite`. */
  dataDir: string
  /** The secret the hub's proxy sends (`services/lib/http.ts`). */
  proxySecret: string | undefined
  mqttUrl: string
  credentials: () => Promise<{ username: string, password?: string }>
  log: Logger
}

/** The Customers service: HTTP in, `customer.*` facts and the retained profile out through its outbox. */
export function createCustomers (opts: CustomersOptions): HttpProducer {
  return new HttpProducer({
    name: 'customers',
    dbFile: join(opts.dataDir, 'customers.sqlite'),
    proxySecret: opts.proxySecret,
    mqttUrl: opts.mqttUrl,
    credentials: opts.credentials,
    log: opts.log,
    host: opts.config.host,
    port: opts.config.port,
    portKey: 'customers.port',
    build: (db) => {
      const store = new CustomerStore(db)
      return { outbox: store.outbox, routes: customerRoutes(store) }
    }
  })
}
