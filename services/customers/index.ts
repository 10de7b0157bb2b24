import type { ShopContext } from '../lib/context.ts'
import type { HttpProducer } from '../lib/producer.ts'
import { shopProducer } from '../lib/shop.ts'
import { CustomerStore } from './store.ts'
import { customerRoutes } from './api.ts'
import type { CustomersConfig } from './config.ts'

/** The Customers service: HTTP in, `customer.*` facts and the retained profile out through its outbox. */
export function createCustomers (ctx: ShopContext<{ customers: CustomersConfig }>): HttpProducer {
  return shopProducer('customers', ctx, (db) => {
    const store = new CustomerStore(db)
    return { outbox: store.outbox, routes: customerRoutes(store) }
  })
}

/** The service definition registered in `services/hub/services.ts`. */
export const customersService = {
  name: 'customers',
  describe: 'The Customers HTTP API; customer.* facts and the retained profile through a transactional outbox',
  create: createCustomers
}
