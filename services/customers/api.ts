import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { ShopId } from '#contract'
import { READ_ROLES, WRITE_ROLES, authorize, parseBody } from '../lib/http.ts'
import { newShopId } from '../lib/db.ts'
import { CustomerInput, createCustomer, updateCustomer, type Customer } from './core.ts'
import type { CustomerStore } from './store.ts'

const IdParams = z.strictObject({ id: ShopId })
const ListQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(100) })

/** A customer as the API answers it: its own id is `id`, as an order's is. */
const view = ({ customerId, ...profile }: Customer) => ({ id: customerId, ...profile })

/** The customers API: `POST` creates (201), `PUT` replaces the profile, `GET` reads. */
export function customerRoutes (store: CustomerStore, now: () => Date = () => new Date()) {
  return (app: FastifyInstance): void => {
    app.post('/api/customers', async (req, reply) => {
      authorize(req, WRITE_ROLES)
      const input = parseBody(CustomerInput, req.body)
      const at = now()
      const { customer, event } = createCustomer(input, newShopId(at.getTime()), at)
      store.save(customer, event, at)
      return reply.code(201).send(view(customer))
    })
    app.put('/api/customers/:id', async (req) => {
      authorize(req, WRITE_ROLES)
      const { id } = parseBody(IdParams, req.params)
      const input = parseBody(CustomerInput, req.body)
      const at = now()
      const { customer, event } = updateCustomer(store.get(id), input, at)
      store.save(customer, event, at)
      return view(customer)
    })
    app.get('/api/customers', async (req) => {
      authorize(req, READ_ROLES)
      return { customers: store.list(parseBody(ListQuery, req.query).limit).map(view) }
    })
    app.get('/api/customers/:id', async (req) => {
      authorize(req, READ_ROLES)
      return view(store.get(parseBody(IdParams, req.params).id))
    })
  }
}
