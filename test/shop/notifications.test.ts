import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { customerFactTopic, customerProfileTopic } from '#contract'
import { makeFact } from '#client'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox, publishAck } from '../helpers/mqtt.ts'
import type { HttpProducer } from '../../services/lib/producer.ts'
import type { Notifications } from '../../services/notifications/index.ts'
import { CLERK, call, Receiver, removeDir, startCustomers, startNotifications, startOrders, tempDir } from './shop.ts'

const line = { sku: 'cup', quantity: 1, unitPrice: 300 }

describe('the Notifications service', () => {
  let hub: TestHub
  let dir: string
  let orders: HttpProducer
  let customers: HttpProducer
  let notifications: Notifications | undefined
  let receiver: Receiver
  let webhook: string

  const placeOrder = async (customerId: string): Promise<string> => {
    const r = await call(`${orders.url}/api/orders`, 'POST', { customerId, lines: [line], currency: 'EUR' }, CLERK)
    expect(r.status).toBe(201)
    return (r.body as { id: string }).id
  }
  const newCustomer = async (body: Record<string, unknown>): Promise<string> => {
    const r = await call(`${customers.url}/api/customers`, 'POST', body, CLERK)
    expect(r.status).toBe(201)
    return (r.body as { id: string }).id
  }

  beforeEach(async () => {
    hub = await startTestHub()
    dir = tempDir()
    receiver = new Receiver()
    webhook = await receiver.start()
    orders = await startOrders(hub, `${dir}/orders`)
    customers = await startCustomers(hub, `${dir}/customers`)
  })
  afterEach(async () => {
    await notifications?.stop()
    notifications = undefined
    await orders.stop()
    await customers.stop()
    await receiver.stop()
    await hub.stop()
    removeDir(dir)
  })

  it('is down while 100 orders are placed, and after its restart notifies each exactly once', async () => {
    notifications = await startNotifications(hub, `${dir}/notifications`, webhook)
    const customerId = await newCustomer({ name: 'Ann', phone: '+44 7700 900123' })
    const watcher = await connect(hub.mqttUrl, { username: 'homefacts-hub', password: hub.hub.secrets.get('homefacts-hub')!.password })
    const wire = new Inbox(watcher)
    await watcher.subscribeAsync(`notify/${customerId}/fact/sent`, { qos: 1 })
    const first = await placeOrder(customerId)
    await receiver.until(1)
    await notifications.stop()
    notifications = undefined
    const ids = [first]
    for (let i = 0; i < 100; i++) ids.push(await placeOrder(customerId))
    await orders.relay.idle()
    expect(receiver.got.length).toBe(1)
    notifications = await startNotifications(hub, `${dir}/notifications`, webhook)
    await receiver.until(101)
    expect(receiver.duplicates()).toBe(0)
    expect(receiver.got.map((g) => g.key)).toStrictEqual(hub.hub.ledger.read({ topic: 'shop/orders/#', limit: 1000 }).map((e) => e.fact.id))
    expect(receiver.got.map((g) => g.body.fact.subject)).toStrictEqual(ids.map((id) => `shop/orders/${id}`))
    expect(receiver.got[100]!.body).toStrictEqual({
      event: 'notify',
      recipient: customerId,
      title: `Your order ${ids[100]}`,
      message: `Ann, we have your order ${ids[100]} (3.00 EUR)`,
      priority: 'normal',
      to: { name: 'Ann', phone: '+44 7700 900123' },
      fact: { id: receiver.got[100]!.key, type: 'order.created', subject: `shop/orders/${ids[100]}` }
    })
    // Each notice is a notification.sent fact caused by the order fact.
    const sent = await wire.wait(`notify/${customerId}/fact/sent`, 101)
    expect(sent.map((m) => { const f = JSON.parse(m.payload) as { causationid: string, seq: number }; return [f.causationid, f.seq, m.qos, m.retain] }))
      .toStrictEqual(receiver.got.map((g, i) => [g.key, i + 1, 1, false]))
    await watcher.endAsync()
  }, 60_000)

  it('uses a new phone number for later notifications, and a stale update arriving late does not overwrite it', async () => {
    notifications = await startNotifications(hub, `${dir}/notifications`, webhook)
    const customerId = await newCustomer({ name: 'Ann', phone: '+44 7700 900123' })
    await customers.relay.idle()
    await placeOrder(customerId)
    await receiver.until(1)
    expect((await call(`${customers.url}/api/customers/${customerId}`, 'PUT', { name: 'Ann', phone: '+44 7700 900999' }, CLERK)).body).toMatchObject({ seq: 2, phone: '+44 7700 900999' })
    // Its PUBACK means the update is queued for Notifications before the next order is.
    await customers.relay.idle()
    await placeOrder(customerId)
    await receiver.until(2)
    // An update from before (seq 1), delivered late.
    const admin = await connect(hub.mqttUrl, { protocolVersion: 5, username: 'homefacts-hub', password: hub.hub.secrets.get('homefacts-hub')!.password })
    const stale = makeFact('customer.updated', { subject: `shop/customers/${customerId}`, source: 'services/customers', seq: 1, data: { customerId, name: 'Ann', phone: '+44 7700 900000' } })
    expect(await publishAck(admin, customerFactTopic(customerId, 'updated'), JSON.stringify(stale))).toStrictEqual({ reasonCode: 0 })
    await admin.endAsync()
    await placeOrder(customerId)
    await receiver.until(3)
    expect(receiver.got.map((g) => g.body.to.phone)).toStrictEqual(['+44 7700 900123', '+44 7700 900999', '+44 7700 900999'])
    expect(receiver.duplicates()).toBe(0)
  })

  it('holds an order whose customer is not known yet, and notifies it once the profile arrives', async () => {
    notifications = await startNotifications(hub, `${dir}/notifications`, webhook)
    const early = await placeOrder('c-late')
    // Notifications handles one message at a time: once a later order is notified, the early one was handled.
    const known = await newCustomer({ name: 'Ben', email: 'ben@example.org' })
    await customers.relay.idle()
    await placeOrder(known)
    await receiver.until(1)
    expect(receiver.got.map((g) => g.body.recipient)).toStrictEqual([known])
    expect(notifications.store.waitingFor('c-late').map((f) => f.subject)).toStrictEqual([`shop/orders/${early}`])
    const admin = await connect(hub.mqttUrl, { protocolVersion: 5, username: 'homefacts-hub', password: hub.hub.secrets.get('homefacts-hub')!.password })
    const profile = { customerId: 'c-late', name: 'Cat', phone: '+44 7700 900555', seq: 1, updatedAt: new Date().toISOString() }
    expect(await publishAck(admin, customerProfileTopic('c-late'), JSON.stringify(profile), { retain: true })).toStrictEqual({ reasonCode: 0 })
    await admin.endAsync()
    await receiver.until(2)
    expect(receiver.got[1]!.body).toStrictEqual({
      event: 'notify',
      recipient: 'c-late',
      title: `Your order ${early}`,
      message: `Cat, we have your order ${early} (3.00 EUR)`,
      priority: 'normal',
      to: { name: 'Cat', phone: '+44 7700 900555' },
      fact: { id: receiver.got[1]!.key, type: 'order.created', subject: `shop/orders/${early}` }
    })
    expect(notifications.store.waitingFor('c-late')).toStrictEqual([])
    expect(receiver.duplicates()).toBe(0)
  })
})
