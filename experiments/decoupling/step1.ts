import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import { pino } from 'pino'
import { orderSubject, type Fact } from '#contract'
import { makeFact } from '#client'
import { listen } from '../../broker/listeners.ts'
import { openDatabase, newShopId } from '../../services/lib/db.ts'
import { WRITE_ROLES, authorize, createApi, parseBody } from '../../services/lib/http.ts'
import { NewOrder, createOrder } from '../../services/orders/core.ts'
import { OrderStore, ORDERS_SOURCE } from '../../services/orders/store.ts'
import { noticeFor, type Contact, type OrderFact } from '../../services/notifications/core.ts'
import { WebhookChannel } from '../../services/notifications/index.ts'
import type { CustomerProfile } from '#contract'
import { PROXY_SECRET, callWithRetry, vouched } from './call.ts'

export interface Orders1Options { port: number, dataDir: string, notificationsUrl: string }

/**
 * Step 1's Orders: the real order core and store, then a request to Notifications before it
 * answers. When Notifications stays down through the retries, the order is still accepted (it is
 * committed) and the notification waits in an in-memory queue, tried again every second: it is
 * lost if Orders restarts before Notifications is back.
 */
export async function runOrders1 (opts: Orders1Options): Promise<void> {
  const log = pino({ level: 'warn' })
  const store = new OrderStore(openDatabase(join(opts.dataDir, 'orders1.sqlite')))
  const pending: Fact<'order.created'>[] = []
  const notify = (fact: Fact<'order.created'>): Promise<unknown> =>
    callWithRetry(opts.notificationsUrl, { method: 'POST', headers: { ...vouched('orders', 'service'), 'content-type': 'application/json' }, body: JSON.stringify(fact) })
  const app = createApi(log, PROXY_SECRET)
  app.post('/api/orders', async (req, reply) => {
    authorize(req, WRITE_ROLES)
    const input = parseBody(NewOrder, req.body)
    const at = new Date()
    const { order, event } = createOrder(input, newShopId(at.getTime()), at)
    store.save(order, event, at)
    const fact = makeFact('order.created', { subject: orderSubject(order.id), source: ORDERS_SOURCE, seq: 1, data: event.data as Fact<'order.created'>['data'], time: at })
    try {
      await notify(fact)
    } catch {
      pending.push(fact)
    }
    return reply.code(201).send(order)
  })
  await listen(app.server, opts.port, '127.0.0.1', 'orders1.port')
  await app.ready()
  process.stdout.write('orders1 ready\n')
  for (;;) {
    await sleep(1000)
    while (pending.length > 0) {
      try {
        await notify(pending[0]!)
        pending.shift()
      } catch {
        break
      }
    }
  }
}

export interface Notifications1Options { port: number, customersUrl: string, webhookUrl: string, user: string, password: string }

/**
 * Step 1's Notifications: asked by Orders, it asks Customers for the contact details (with the
 * same call policy), then sends through the real webhook channel. A failure is a 502 to Orders.
 * It remembers the fact ids it sent (in memory), so a retried call is not a second send.
 */
export async function runNotifications1 (opts: Notifications1Options): Promise<void> {
  const log = pino({ level: 'warn' })
  const channel = new WebhookChannel(opts.webhookUrl, 2000)
  // A retry of a call that timed out while still running joins it instead of sending again.
  const sends = new Map<string, Promise<void>>()
  const app = createApi(log, PROXY_SECRET)
  app.post('/notify', async (req, reply) => {
    const fact = req.body as OrderFact
    let send = sends.get(fact.id)
    if (!send) {
      send = (async () => { await channel.send(noticeFor(fact, await contactFrom(opts, fact.data.customerId))) })()
      sends.set(fact.id, send)
      send.catch(() => sends.delete(fact.id))
    }
    try {
      await send
      return { sent: fact.id }
    } catch (err) {
      return reply.code(502).send({ error: 'upstream', message: (err as Error).message })
    }
  })
  await listen(app.server, opts.port, '127.0.0.1', 'notifications1.port')
  await app.ready()
  process.stdout.write('notifications1 ready\n')
}

/** Asks Customers for a contact, with the call policy. Steps 1 and 2 share it. */
export async function contactFrom (opts: { customersUrl: string, user: string, password: string }, customerId: string): Promise<Contact> {
  const customer = await callWithRetry(`${opts.customersUrl}/api/customers/${customerId}`, { headers: vouched(opts.user, 'service') }) as Omit<CustomerProfile, 'customerId'> & { id: string }
  const { updatedAt: _updatedAt, id, ...contact } = customer
  return { customerId: id, ...contact }
}
