import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, connectInbox, Inbox } from '../helpers/mqtt.ts'
import type { HttpProducer } from '../../services/lib/producer.ts'
import { CLERK, call, removeDir, startOrders, tempDir } from './shop.ts'

const ULID = /^[0-9a-hjkmnp-tv-z]{26}$/
const order = { customerId: 'c-7', lines: [{ sku: 'cup-blue', quantity: 2, unitPrice: 450 }, { sku: 'lid', quantity: 1, unitPrice: 100 }], currency: 'EUR' }

describe('the Orders service', () => {
  let hub: TestHub
  let dir: string
  let orders: HttpProducer | undefined

  beforeEach(async () => {
    hub = await startTestHub()
    dir = tempDir()
  })
  afterEach(async () => {
    await orders?.stop()
    orders = undefined
    await hub.stop()
    removeDir(hub.dir)
    removeDir(dir)
  })

  it('accepts an order with no subscriber at all, answers 201 with it, and publishes order.created once', async () => {
    orders = await startOrders(hub, dir)
    const r = await call(`${orders.url}/api/orders`, 'POST', order, CLERK)
    expect(r).toStrictEqual({
      status: 201,
      body: { id: expect.stringMatching(ULID), customerId: 'c-7', lines: order.lines, total: 1000, currency: 'EUR', status: 'created', seq: 1, createdAt: expect.any(String), updatedAt: expect.any(String) }
    })
    await orders.relay.idle()
    const id = (r.body as { id: string }).id
    const entries = hub.hub.ledger.read({ after: 0, limit: 100, topic: 'shop/#' })
    expect(entries.map((e) => [e.topic, e.clientId, e.fact.type, e.fact.seq, e.fact.data])).toStrictEqual([
      [`shop/orders/${id}/fact/created`, 'orders', 'order.created', 1, { orderId: id, customerId: 'c-7', lines: order.lines, total: 1000, currency: 'EUR' }]
    ])
    expect(orders.outbox.counts()).toStrictEqual({ pending: 0, sent: 1, failed: 0 })
  })

  it('accepts orders with the broker down; once it is back each fact goes out once, in order', async () => {
    // A persistent subscriber, so "once" is counted on the wire, not only in the ledger.
    const sub = await connect(hub.mqttUrl, { clientId: 'audit', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 }, username: 'homefacts-hub', password: hub.hub.secrets.get('homefacts-hub')!.password })
    await sub.subscribeAsync('shop/orders/+/fact/+', { qos: 1 })
    await sub.endAsync()
    const port = hub.hub.broker.ports.mqtt
    const mqttUrl = hub.mqttUrl
    await hub.hub.stop()
    orders = await startOrders(hub, dir, { mqttUrl })
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const r = await call(`${orders.url}/api/orders`, 'POST', order, CLERK)
      expect(r.status).toBe(201)
      ids.push((r.body as { id: string }).id)
    }
    expect(orders.outbox.counts()).toStrictEqual({ pending: 5, sent: 0, failed: 0 })
    hub = await startTestHub({ dir: hub.dir, flags: { 'mqtt.port': port } })
    const { client: again, inbox } = await connectInbox(hub.mqttUrl, { clientId: 'audit', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 }, username: 'homefacts-hub', password: hub.hub.secrets.get('homefacts-hub')!.password })
    await inbox.wait((m) => m.topic.startsWith('shop/orders/'), 5)
    await orders.relay.idle()
    expect(orders.outbox.counts()).toStrictEqual({ pending: 0, sent: 5, failed: 0 })
    expect(inbox.messages.map((m) => [m.topic, m.qos, m.retain])).toStrictEqual(ids.map((id) => [`shop/orders/${id}/fact/created`, 1, false]))
    expect(hub.hub.ledger.read({ after: 0, limit: 100, topic: 'shop/#' }).map((e) => e.fact.data)).toStrictEqual(ids.map((id) => ({ orderId: id, customerId: 'c-7', lines: order.lines, total: 1000, currency: 'EUR' })))
    await again.endAsync()
  })

  it('marks a fact the broker refuses as failed with its reason, and never sends it again', async () => {
    // A shop account may publish nothing: the broker answers PUBACK 0x87 HF_NOT_AUTHORIZED.
    const wrong = await hub.addUser({ username: 'orders-wrong', role: 'shop' })
    orders = await startOrders(hub, dir, { credentials: wrong })
    const r = await call(`${orders.url}/api/orders`, 'POST', order, CLERK)
    expect(r.status).toBe(201)
    await orders.relay.idle()
    expect(orders.outbox.failed().map((f) => [f.topic, f.status, f.reason])).toStrictEqual([
      [`shop/orders/${(r.body as { id: string }).id}/fact/created`, 'failed', expect.stringMatching(/^HF_NOT_AUTHORIZED: /)]
    ])
    orders.relay.kick()
    await orders.relay.idle()
    expect(orders.outbox.counts()).toStrictEqual({ pending: 0, sent: 0, failed: 1 })
    expect(hub.hub.ledger.read({ after: 0, limit: 100, topic: 'shop/#' })).toStrictEqual([])
  })

  it('over MQTT 3.1.1, reads the refusal from its dead letter and marks the fact failed with it', async () => {
    const wrong = await hub.addUser({ username: 'orders-wrong', role: 'shop' })
    orders = await startOrders(hub, dir, { credentials: wrong, protocolVersion: 4 })
    const ok = await call(`${orders.url}/api/orders`, 'POST', order, CLERK)
    expect(ok.status).toBe(201)
    await orders.relay.idle()
    expect(orders.outbox.failed().map((f) => [f.topic, f.reason])).toStrictEqual([
      [`shop/orders/${(ok.body as { id: string }).id}/fact/created`, expect.stringMatching(/^HF_NOT_AUTHORIZED: /)]
    ])
    expect(orders.outbox.counts()).toStrictEqual({ pending: 0, sent: 0, failed: 1 })
  })

  it('over MQTT 3.1.1, marks an accepted fact sent', async () => {
    orders = await startOrders(hub, dir, { protocolVersion: 4 })
    expect((await call(`${orders.url}/api/orders`, 'POST', order, CLERK)).status).toBe(201)
    await orders.relay.idle()
    expect(orders.outbox.counts()).toStrictEqual({ pending: 0, sent: 1, failed: 0 })
    expect(hub.hub.ledger.read({ topic: 'shop/#' }).map((e) => e.fact.type)).toStrictEqual(['order.created'])
  })

  it('pays, ships and refuses what the status does not allow, each change a fact with the next seq', async () => {
    orders = await startOrders(hub, dir)
    const { id } = (await call(`${orders.url}/api/orders`, 'POST', order, CLERK)).body as { id: string }
    expect(await call(`${orders.url}/api/orders/${id}/ship`, 'POST', {}, CLERK)).toStrictEqual({
      status: 409, body: { error: 'HF_STATE_CONFLICT', message: 'cannot ship an order that is created', issues: [{ path: 'status', message: 'must be paid' }] }
    })
    expect((await call(`${orders.url}/api/orders/${id}/pay`, 'POST', {}, CLERK)).body).toMatchObject({ status: 'paid', seq: 2 })
    expect((await call(`${orders.url}/api/orders/${id}/ship`, 'POST', { carrier: 'dhl' }, CLERK)).body).toMatchObject({ status: 'shipped', seq: 3 })
    expect((await call(`${orders.url}/api/orders/${id}/cancel`, 'POST', {}, CLERK)).status).toBe(409)
    expect((await call(`${orders.url}/api/orders/${id}`, 'GET', undefined, CLERK)).body).toMatchObject({ id, status: 'shipped', seq: 3 })
    expect((await call(`${orders.url}/api/orders`, 'GET', undefined, CLERK)).body).toMatchObject({ orders: [{ id, status: 'shipped' }] })
    expect((await call(`${orders.url}/api/orders/01kb0000000000000000000000`, 'GET', undefined, CLERK)).status).toBe(404)
    await orders.relay.idle()
    expect(hub.hub.ledger.read({ after: 0, limit: 100, topic: 'shop/#' }).map((e) => [e.fact.type, e.fact.seq, e.fact.data])).toStrictEqual([
      ['order.created', 1, { orderId: id, customerId: 'c-7', lines: order.lines, total: 1000, currency: 'EUR' }],
      ['order.paid', 2, { orderId: id, customerId: 'c-7', amount: 1000, currency: 'EUR' }],
      ['order.shipped', 3, { orderId: id, customerId: 'c-7', carrier: 'dhl' }]
    ])
  })

  it('answers 400 with the failing fields, 401 to a request the hub did not forward and 403 to a role that may not write', async () => {
    orders = await startOrders(hub, dir)
    expect(await call(`${orders.url}/api/orders`, 'POST', { customerId: 'C 7', lines: [{ sku: 'a', quantity: 0, unitPrice: 1 }], currency: 'EUR' }, CLERK)).toStrictEqual({
      status: 400,
      body: {
        error: 'HF_BODY',
        message: 'invalid request body',
        issues: [
          { path: 'customerId', message: 'must be lower-case kebab-case (e.g. a lower-cased ULID)' },
          { path: 'lines.0.quantity', message: 'Too small: expected number to be >0' }
        ]
      }
    })
    const unforwarded = await call(`${orders.url}/api/orders`, 'POST', order)
    expect(unforwarded).toMatchObject({ status: 401, body: { error: 'HF_BAD_CREDENTIALS', message: expect.stringContaining('call it through the hub') } })
    expect((await call(`${orders.url}/api/orders`, 'POST', order, { username: 'clerk', role: 'shop', secret: 'not-the-secret' })).status).toBe(401)
    expect(await call(`${orders.url}/api/orders`, 'POST', order, { username: 'mum', role: 'member' })).toMatchObject({ status: 403, body: { error: 'HF_NOT_AUTHORIZED', message: 'role "member" may not do this; one of: admin, shop' } })
    expect(hub.hub.ledger.read({ after: 0, limit: 100, topic: 'shop/#' })).toStrictEqual([])
  })
})
