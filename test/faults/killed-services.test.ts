import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { isRunning, startHubProcess, type HubProcess, type Running } from '../helpers/process.ts'
import { call, Receiver } from '../shop/shop.ts'

// Faults: Orders and Notifications, each a child process of the hub, killed with
// kill -9 in the middle of a stream of orders. test/shop/children.test.ts shows one restart;
// this checks the stream: every order the API accepted has one `order.created` fact id (in the
// ledger once), and each fact id gets one notice and one `notification.sent`, none twice.

const ORDERS = 30

interface Envelope { id: string, type: string, causationid?: string, data: { orderId?: string, channel?: string } }

describe('Orders and Notifications killed with kill -9 mid-stream', () => {
  let dir: string
  let hub: HubProcess
  let receiver: Receiver
  let watcher: MqttClient
  let wire: Inbox
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'homefacts-killed-'))
    receiver = new Receiver()
    const webhook = await receiver.start()
    hub = await startHubProcess(dir, ['--shop-enabled', 'true', '--notifications-webhook-url', webhook])
    // Three child processes on a loaded 2-core machine can take 20 s and more to come up.
    await Promise.all(['orders', 'customers', 'notifications'].map((n) => hub.waitForLog<Running>(isRunning(n), 60_000)))
    watcher = await connect(hub.mqttUrl, { ...hub.admin, clientId: 'killed-watcher' })
    wire = new Inbox(watcher)
    await watcher.subscribeAsync(['shop/orders/+/fact/created', 'notify/+/fact/sent'], { qos: 1 })
  }, 120_000)
  afterAll(async () => {
    await watcher?.endAsync()
    hub?.proc.kill('SIGTERM')
    await hub?.exited
    await receiver?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const pids = new Map<string, number>()
  const killed = new Set<number>()
  /** kill -9 the child `name`; resolves once the hub runs a new one. */
  async function kill9 (name: string): Promise<void> {
    const pid = pids.get(name) ?? (await hub.waitForLog<Running>(isRunning(name))).pid
    killed.add(pid)
    process.kill(pid, 'SIGKILL')
    pids.set(name, (await hub.waitForLog<Running>((e) => isRunning(name)(e) && !killed.has(e.pid!), 60_000)).pid)
  }
  const createdOf = (orderId: string) => (m: { topic: string }): boolean => m.topic === `shop/orders/${orderId}/fact/created`

  it(`loses no order and notifies each once across a kill -9 of Notifications and two of Orders in ${ORDERS} orders`, async () => {
    const customer = await call(`${hub.httpUrl}/api/customers`, 'POST', { name: 'Ann', phone: '+44 7700 900123' }, hub.admin)
    expect(customer.status).toBe(201)
    const customerId = (customer.body as { id: string }).id
    const place = async (sku: string): Promise<string> => {
      const res = await call(`${hub.httpUrl}/api/orders`, 'POST', { customerId, lines: [{ sku, quantity: 1, unitPrice: 100 }], currency: 'EUR' }, hub.admin)
      expect(res.status).toBe(201)
      return (res.body as { id: string }).id
    }
    const accepted: string[] = []
    let notificationsBack: Promise<void> | undefined
    for (let i = 0; i < ORDERS; i++) {
      accepted.push(await place(`cup-${i}`))
      // Notifications dies while orders keep coming: they wait in its persistent session.
      if (i === 5) notificationsBack = kill9('notifications')
      // Orders dies right after answering 201, before or while its outbox publishes the fact.
      if (i === 12 || i === 21) await kill9('orders')
    }
    await notificationsBack
    // A last order goes all the way through after the stream: a duplicate of an earlier notice would come before its own.
    const last = await place('sentinel')
    accepted.push(last)
    const [lastFact] = await wire.wait(createdOf(last), 1, 30_000)
    const lastId = (JSON.parse(lastFact!.payload) as Envelope).id
    await receiver.until(accepted.length, 30_000)
    await wire.wait((m) => m.topic === `notify/${customerId}/fact/sent` && (JSON.parse(m.payload) as Envelope).causationid === lastId, 1, 30_000)

    // An order whose fact went out just before the kill is sent again by its outbox after the
    // restart, under the same id: delivery is at least once, and the id is every consumer's dedup key.
    const created = new Map(wire.messages.filter((m) => m.topic.endsWith('/fact/created')).map((m) => JSON.parse(m.payload) as Envelope).map((f) => [f.id, f]))
    const redelivered = wire.messages.filter((m) => m.topic.endsWith('/fact/created')).length - created.size
    console.log(`killed-services: ${accepted.length} orders accepted, ${created.size} order.created facts, ${redelivered} delivered again under the same id after a kill -9 of Orders`)
    expect([...created.values()].map((f) => f.data.orderId).sort()).toStrictEqual([...accepted].sort())
    const ids = [...created.keys()]
    // The ledger holds each once too.
    const auth = { authorization: `Basic ${Buffer.from(`${hub.admin.username}:${hub.admin.password}`).toString('base64')}` }
    const ledger = await (await fetch(`${hub.httpUrl}/api/facts?after=0&limit=10000&topic=${encodeURIComponent('shop/orders/+/fact/created')}`, { headers: auth })).json() as { facts: { fact: Envelope }[] }
    expect(ledger.facts.map((f) => f.fact.id).sort()).toStrictEqual([...ids].sort())
    // One notification.sent id per order fact and channel (its outbox may deliver it again, under the same id).
    const sent = new Map(wire.messages.filter((m) => m.topic === `notify/${customerId}/fact/sent`).map((m) => JSON.parse(m.payload) as Envelope).map((f) => [f.id, f]))
    const perFact = new Map<string, number>()
    for (const f of sent.values()) perFact.set(`${f.causationid}/${f.data.channel}`, (perFact.get(`${f.causationid}/${f.data.channel}`) ?? 0) + 1)
    expect([...perFact.entries()].filter(([, n]) => n !== 1)).toStrictEqual([])
    expect(new Set([...sent.values()].map((f) => f.causationid))).toStrictEqual(new Set(ids))
    // Each fact reached the webhook, under its id as the Idempotency-Key.
    const keys = receiver.got.map((g) => g.key)
    console.log(`killed-services: ${sent.size} notification.sent facts for ${ids.length} order facts; ${keys.length} webhook calls for ${new Set(keys).size} keys`)
    expect(new Set(keys)).toStrictEqual(new Set(ids))
  }, 180_000)
})
