import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { pino } from 'pino'
import { Device } from '../../devices/device.ts'
import { ThingEntry, toSpec } from '../../devices/spec.ts'
import type { HttpProducer } from '../../services/lib/producer.ts'
import type { Notifications } from '../../services/notifications/index.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { FakeClock } from '../devices/fake-clock.ts'
import { Gate } from '../devices/gate.ts'
import { CLERK, call, Receiver, removeDir, startCustomers, startNotifications, startOrders, tempDir } from '../shop/shop.ts'

// Faults: the broker unreachable for 30 s from a device, Orders and Notifications
// (each behind one TCP gate that drops every connection while it is down; the hub keeps running).
// They reconnect by themselves, and every fact made during the outage arrives, once per id.

const OUTAGE_MS = 30_000
const TOGGLES = 20
const ORDERS = 10

interface Envelope { id: string, type: string, seq: number, causationid?: string }

describe('the broker unreachable for 30 s', () => {
  let t: TestHub
  let dir: string
  let gate: Gate
  let device: Device
  let orders: HttpProducer
  let customers: HttpProducer
  let notifications: Notifications
  let receiver: Receiver
  let watcher: MqttClient
  let wire: Inbox
  const clock = new FakeClock()

  beforeAll(async () => {
    t = await startTestHub()
    dir = tempDir()
    gate = new Gate(t.hub.broker.ports.mqtt)
    const gateUrl = await gate.listen()
    gate.up()
    const ops = await t.addUser({ username: 'ops', role: 'admin' })
    watcher = await connect(t.mqttUrl, { ...ops, clientId: 'outage-watcher' })
    wire = new Inbox(watcher)
    await watcher.subscribeAsync(['home/kitchen/outage-cup/fact/#', 'shop/orders/+/fact/created', 'notify/+/fact/sent'], { qos: 1 })
    receiver = new Receiver()
    const webhook = await receiver.start()
    customers = await startCustomers(t, `${dir}/customers`)
    orders = await startOrders(t, `${dir}/orders`, { mqttUrl: gateUrl })
    notifications = await startNotifications(t, `${dir}/notifications`, webhook, { mqttUrl: gateUrl })
    const creds = await t.addUser({ username: 'outage-cup', role: 'device', things: ['kitchen/outage-cup'] })
    const spec = toSpec(ThingEntry.parse({ kind: 'cup', area: 'kitchen', thing: 'outage-cup' }), true)
    // Backoff 250 ms doubling to 2 s (the default goes to 30 s), so the test waits seconds, not half a minute, after the outage.
    device = new Device({ spec, broker: { url: gateUrl, ...creds, backoff: { minMs: 250, maxMs: 2000 } }, stateDir: `${dir}/device`, log: pino({ level: 'silent' }), clock, discovery: false })
    device.start()
  })
  afterAll(async () => {
    await device?.stop()
    await notifications?.stop()
    await orders?.stop()
    await customers?.stop()
    await gate?.close()
    await receiver?.stop()
    await watcher?.endAsync()
    await t?.stop()
    removeDir(dir)
  })

  const toggle = (n: number): void => {
    for (let i = 0; i < n; i++) {
      device.source.set(device.sensor.side === 'high' ? 0.02 : 0.95)
      clock.advance(500)
    }
  }
  const facts = (match: (topic: string) => boolean): Envelope[] => wire.messages.filter((m) => match(m.topic)).map((m) => JSON.parse(m.payload) as Envelope)
  const byId = (fs: Envelope[]): Map<string, Envelope> => new Map(fs.map((f) => [f.id, f]))

  it(`delivers what a device and Orders made while it was unreachable, and Notifications notifies each order once, after they reconnect by themselves`, async () => {
    const customer = await call(`${customers.url}/api/customers`, 'POST', { name: 'Ann', phone: '+44 7700 900123' }, CLERK)
    const customerId = (customer.body as { id: string }).id
    const place = async (): Promise<string> => {
      const r = await call(`${orders.url}/api/orders`, 'POST', { customerId, lines: [{ sku: 'cup', quantity: 1, unitPrice: 300 }], currency: 'EUR' }, CLERK)
      expect(r.status).toBe(201)
      return (r.body as { id: string }).id
    }
    // Before: everything flows.
    toggle(2)
    const before = await place()
    await wire.wait((m) => m.topic === `shop/orders/${before}/fact/created`)
    await receiver.until(1)
    await wire.wait((m) => m.topic.startsWith('home/kitchen/outage-cup/fact/'), 2)

    gate.down()
    const downAt = Date.now()
    const accepted = [before]
    // During: the device keeps sensing and Orders keeps taking orders over HTTP; both hold their facts.
    for (let i = 0; i < ORDERS; i++) accepted.push(await place())
    toggle(TOGGLES)
    expect(device.store.pending()).toBeGreaterThan(0)
    // The fault is 30 s of real time.
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS - (Date.now() - downAt)))
    expect(wire.messages.filter((m) => m.topic.startsWith('home/kitchen/outage-cup/fact/'))).toHaveLength(2)
    gate.up()
    const upAt = Date.now()

    // After: no restart, no help. Every fact arrives.
    await wire.wait((m) => m.topic.startsWith('home/kitchen/outage-cup/fact/') && (JSON.parse(m.payload) as Envelope).seq === 2 + TOGGLES, 1, 20_000)
    await receiver.until(accepted.length, 20_000)
    console.log(`broker-outage: gate down ${upAt - downAt} ms; device, Orders and Notifications caught up ${Date.now() - upAt} ms after it came back`)
    const cup = byId(facts((topic) => topic.startsWith('home/kitchen/outage-cup/fact/')))
    expect([...cup.values()].map((f) => f.seq).sort((a, b) => a - b)).toStrictEqual(Array.from({ length: 2 + TOGGLES }, (_, i) => i + 1))
    const created = byId(facts((topic) => topic.endsWith('/fact/created')))
    expect(created.size).toBe(accepted.length)
    expect(new Set(receiver.got.map((g) => g.key))).toStrictEqual(new Set(created.keys()))
    await wire.wait((m) => m.topic === `notify/${customerId}/fact/sent`, accepted.length, 20_000)
    const sent = byId(facts((topic) => topic === `notify/${customerId}/fact/sent`))
    expect([...sent.values()].map((f) => f.causationid).sort()).toStrictEqual([...created.keys()].sort())
    await device.publisher.drained()
    expect(device.store.pending()).toBe(0)
  }, 90_000)
})
