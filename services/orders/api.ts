import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { ShopId } from '#contract'
import { READ_ROLES, WRITE_ROLES, authorize, parseBody } from '../lib/http.ts'
import { newShopId } from '../lib/db.ts'
import { Action, ActionBody, NewOrder, applyAction, createOrder } from './core.ts'
import type { OrderStore } from './store.ts'

const IdParams = z.strictObject({ id: ShopId })
const ActionParams = z.strictObject({ id: ShopId, action: Action })
const ListQuery = z.strictObject({ customerId: ShopId.optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) })

/**
 * The orders API. Creating an order is a request, and rightly so: it answers 201 with the order
 * once the order and its fact are committed, whether or not the broker is up.
 */
export function orderRoutes (store: OrderStore, now: () => Date = () => new Date()) {
  return (app: FastifyInstance): void => {
    app.post('/api/orders', async (req, reply) => {
      authorize(req, WRITE_ROLES)
      const input = parseBody(NewOrder, req.body)
      const at = now()
      const { order, event } = createOrder(input, newShopId(at.getTime()), at)
      store.save(order, event, at)
      return reply.code(201).send(order)
    })
    app.get('/api/orders', async (req) => {
      authorize(req, READ_ROLES)
      const q = parseBody(ListQuery, req.query)
      return { orders: store.list({ limit: q.limit, ...(q.customerId ? { customerId: q.customerId } : {}) }) }
    })
    app.get('/api/orders/:id', async (req) => {
      authorize(req, READ_ROLES)
      return store.get(parseBody(IdParams, req.params).id)
    })
    app.post('/api/orders/:id/:action', async (req) => {
      authorize(req, WRITE_ROLES)
      const { id, action } = parseBody(ActionParams, req.params)
      const body = parseBody(ActionBody, req.body)
      const at = now()
      // get → apply → save runs with no await in between, so two requests cannot interleave.
      const { order, event } = applyAction(store.get(id), action, body, at)
      store.save(order, event, at)
      return order
    })
  }
}
