import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import type { HttpProducer } from '../../services/lib/producer.ts'
import { AuditLog } from './audit.ts'
import { CLERK, call, removeDir, startCustomers, startOrders, tempDir } from './shop.ts'

describe('the Customers service', () => {
  let hub: TestHub
  let dir: string
  let customers: HttpProducer

  beforeEach(async () => {
    hub = await startTestHub()
    dir = tempDir()
    customers = await startCustomers(hub, dir)
  })
  afterEach(async () => {
    await customers.stop()
    await hub.stop()
    removeDir(dir)
  })

  it('emits a fact and the retained profile for each change, the seq growing by one', async () => {
    const created = await call(`${customers.url}/api/customers`, 'POST', { name: 'Ann', email: 'ann@example.org', ntfy: 'ann-phone' }, CLERK)
    expect(created).toStrictEqual({ status: 201, body: { id: expect.stringMatching(/^[0-9a-z]{26}$/), name: 'Ann', email: 'ann@example.org', ntfy: 'ann-phone', seq: 1, updatedAt: expect.any(String) } })
    const id = (created.body as { id: string }).id
    const updated = await call(`${customers.url}/api/customers/${id}`, 'PUT', { name: 'Ann', phone: '+44 7700 900999' }, CLERK)
    expect(updated.body).toStrictEqual({ id, name: 'Ann', phone: '+44 7700 900999', seq: 2, updatedAt: expect.any(String) })
    await customers.relay.idle()
    expect(hub.hub.ledger.read({ topic: 'shop/#' }).map((e) => [e.topic, e.fact.type, e.fact.seq, e.fact.data])).toStrictEqual([
      [`shop/customers/${id}/fact/created`, 'customer.created', 1, { customerId: id, name: 'Ann', email: 'ann@example.org', ntfy: 'ann-phone' }],
      [`shop/customers/${id}/fact/updated`, 'customer.updated', 2, { customerId: id, name: 'Ann', phone: '+44 7700 900999' }]
    ])
    const late = await connect(hub.mqttUrl, { username: 'homefacts-hub', password: hub.hub.secrets.get('homefacts-hub')!.password })
    const inbox = new Inbox(late)
    await late.subscribeAsync(`shop/customers/${id}/profile`, { qos: 1 })
    const [profile] = await inbox.wait(`shop/customers/${id}/profile`)
    expect({ ...profile!, payload: JSON.parse(profile!.payload) as unknown }).toStrictEqual({ topic: `shop/customers/${id}/profile`, qos: 1, retain: true, payload: { customerId: id, name: 'Ann', phone: '+44 7700 900999', seq: 2, updatedAt: (updated.body as { updatedAt: string }).updatedAt } })
    await late.endAsync()
    expect((await call(`${customers.url}/api/customers/${id}`, 'GET', undefined, CLERK)).body).toStrictEqual(updated.body)
    expect((await call(`${customers.url}/api/customers`, 'GET', undefined, CLERK)).body).toStrictEqual({ customers: [updated.body] })
  })

  it('answers 400 with the failing fields and 404 for an unknown customer', async () => {
    expect(await call(`${customers.url}/api/customers`, 'POST', { name: '', email: 'not-mail' }, CLERK)).toMatchObject({
      status: 400, body: { error: 'HF_BODY', issues: [{ path: 'name' }, { path: 'email' }] }
    })
    expect((await call(`${customers.url}/api/customers/nobody`, 'PUT', { name: 'X' }, CLERK)).status).toBe(404)
  })

  it('lets a new consumer, an audit log, read every shop fact with no change to Orders', async () => {
    const orders = await startOrders(hub, join(dir, 'orders'))
    const r = await call(`${orders.url}/api/orders`, 'POST', { customerId: 'c-1', lines: [{ sku: 'a', quantity: 1, unitPrice: 5 }], currency: 'EUR' }, CLERK)
    expect(r.status).toBe(201)
    await orders.relay.idle()
    // Added while Orders runs, untouched; it sees the facts from its subscription on.
    const file = join(dir, 'audit.ndjson')
    const audit = new AuditLog(file, hub.mqttUrl, { username: 'homefacts-hub', password: hub.hub.secrets.get('homefacts-hub')!.password })
    await audit.start()
    const id = (r.body as { id: string }).id
    await call(`${orders.url}/api/orders/${id}/pay`, 'POST', {}, CLERK)
    await call(`${customers.url}/api/customers`, 'POST', { name: 'Dee' }, CLERK)
    await audit.until(2)
    expect(readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { fact: { type: string } }).fact.type).sort()).toStrictEqual(['customer.created', 'order.paid'])
    await audit.stop()
    await orders.stop()
  })
})
