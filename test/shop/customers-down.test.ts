import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { BIN } from '../helpers/process.ts'
import type { HttpProducer } from '../../services/lib/producer.ts'
import { CLERK, PROXY_SECRET, call, Receiver, removeDir, startOrders, tempDir } from './shop.ts'

interface Child { proc: ChildProcess, url?: string, exited: Promise<unknown> }

/** `homefacts service <name>` in its own process, as its own MQTT user; resolves once it has started. */
async function startServiceProcess (hub: TestHub, name: 'customers' | 'notifications', dataDir: string, extra: string[]): Promise<Child> {
  const { password } = await hub.hub.credentials(name, { role: name })
  const proc = spawn(BIN, ['service', name, '--broker', hub.mqttUrl, '--username', name, '--data-dir', dataDir, '--proxy-secret', PROXY_SECRET, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOMEFACTS_LOG_LEVEL: 'info', HOMEFACTS_SERVICE_PASSWORD: password } })
  const exited = new Promise((resolve) => proc.once('exit', resolve))
  let err = ''
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const url = await new Promise<string | undefined>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string, url?: string }
      if (entry.msg === `${name} started`) resolve(entry.url)
    })
    void exited.then(() => reject(new Error(`${name} exited before it started: ${err}`)))
  })
  return { proc, ...(url ? { url } : {}), exited }
}

describe('Customers is down', () => {
  let hub: TestHub | undefined
  let dir = ''
  const children: Child[] = []
  let orders: HttpProducer | undefined
  let receiver: Receiver | undefined

  afterEach(async () => {
    for (const c of children.splice(0)) {
      c.proc.kill('SIGKILL')
      await c.exited
    }
    await orders?.stop()
    await receiver?.stop()
    await hub?.stop()
    removeDir(dir)
  })

  it('notifications still go out, with the contact details from Notifications’ local store', async () => {
    hub = await startTestHub()
    dir = tempDir()
    receiver = new Receiver()
    const webhook = await receiver.start()
    const customers = await startServiceProcess(hub, 'customers', join(dir, 'customers'), ['--port', '0'])
    children.push(customers)
    children.push(await startServiceProcess(hub, 'notifications', join(dir, 'notifications'), ['--webhook-url', webhook]))
    orders = await startOrders(hub, join(dir, 'orders'))
    const watcher = await connect(hub.mqttUrl, { username: 'homefacts-hub', password: hub.hub.secrets.get('homefacts-hub')!.password })
    const wire = new Inbox(watcher)
    await watcher.subscribeAsync('notify/+/fact/sent', { qos: 1 })

    const customer = await call(`${customers.url!}/api/customers`, 'POST', { name: 'Ann', phone: '+44 7700 900123' }, CLERK)
    expect(customer.status).toBe(201)
    const customerId = (customer.body as { id: string }).id
    const placed: string[] = []
    const place = async (): Promise<void> => {
      const r = await call(`${orders!.url}/api/orders`, 'POST', { customerId, lines: [{ sku: 'cup', quantity: 1, unitPrice: 300 }], currency: 'EUR' }, CLERK)
      expect(r.status).toBe(201)
      placed.push((r.body as { id: string }).id)
    }
    await place()
    await receiver.until(1)

    customers.proc.kill('SIGTERM')
    await customers.exited
    children.splice(children.indexOf(customers), 1)
    await expect(fetch(`${customers.url!}/api/customers/${customerId}`)).rejects.toThrow()

    for (let i = 0; i < 3; i++) await place()
    await receiver.until(4)
    expect(receiver.got.map((g) => g.body.fact.subject)).toStrictEqual(placed.map((id) => `shop/orders/${id}`))
    expect(receiver.got.map((g) => g.body.to)).toStrictEqual(placed.map(() => ({ name: 'Ann', phone: '+44 7700 900123' })))
    expect(receiver.duplicates()).toBe(0)
    // One notification.sent per order and channel (the log channel and the webhook), each caused by its order.created.
    const sent = (await wire.wait((m) => m.topic === `notify/${customerId}/fact/sent`, 8, 10_000)).map((m) => JSON.parse(m.payload) as { causationid: string, data: { channel: string } })
    const orderFacts = hub.hub.ledger.read({ topic: 'shop/orders/#', limit: 100 }).map((e) => e.fact.id)
    const pairs = (channel: string) => sent.filter((f) => f.data.channel === channel).map((f) => f.causationid)
    expect(pairs('webhook')).toStrictEqual(orderFacts)
    expect(pairs('log')).toStrictEqual(orderFacts)
    await watcher.endAsync()
  }, 60_000)
})
