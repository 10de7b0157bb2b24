import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { BIN, runCli } from '../helpers/process.ts'
import type { HttpProducer } from '../../services/lib/producer.ts'
import type { Notifications } from '../../services/notifications/index.ts'
import { CLERK, PROXY_SECRET, call, Receiver, removeDir, startCustomers, startNotifications, tempDir } from './shop.ts'

interface Child { proc: ChildProcess, url: string, exited: Promise<unknown> }

/** `homefacts service orders` in its own process; resolves with its API's URL once it listens. */
async function startOrdersProcess (hub: TestHub, dataDir: string, password: string): Promise<Child> {
  const proc = spawn(BIN, ['service', 'orders', '--broker', hub.mqttUrl, '--username', 'orders', '--password', password, '--data-dir', dataDir, '--proxy-secret', PROXY_SECRET, '--port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOMEFACTS_LOG_LEVEL: 'info' } })
  const exited = new Promise((resolve) => proc.once('exit', resolve))
  let err = ''
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string, url?: string }
      if (entry.msg === 'orders started') resolve(entry.url!)
    })
    void exited.then(() => reject(new Error(`orders exited before it started: ${err}`)))
  })
  return { proc, url, exited }
}

describe('homefacts service orders, in its own process', () => {
  let hub: TestHub | undefined
  let dir: string
  let child: Child | undefined
  let customers: HttpProducer | undefined
  let notifications: Notifications | undefined
  let receiver: Receiver | undefined

  afterEach(async () => {
    child?.proc.kill('SIGKILL')
    await child?.exited
    await notifications?.stop()
    await customers?.stop()
    await receiver?.stop()
    await hub?.stop()
    removeDir(dir)
  })

  it('loses no fact when killed with kill -9 as its facts reach the broker, and Notifications acts on none twice', async () => {
    hub = await startTestHub()
    dir = tempDir()
    const { password } = await hub.hub.credentials('orders', { role: 'orders' })
    receiver = new Receiver()
    notifications = await startNotifications(hub, join(dir, 'notifications'), await receiver.start())
    customers = await startCustomers(hub, join(dir, 'customers'))
    const customerId = ((await call(`${customers.url}/api/customers`, 'POST', { name: 'Ann', phone: '+44 7700 900123' }, CLERK)).body as { id: string }).id
    await customers.relay.idle()
    const watcher = await connect(hub.mqttUrl, { username: 'homefacts-hub', password: hub.hub.secrets.get('homefacts-hub')!.password })
    const wire = new Inbox(watcher)
    await watcher.subscribeAsync('shop/orders/+/fact/created', { qos: 1 })

    child = await startOrdersProcess(hub, join(dir, 'orders'), password)
    const accepted: string[] = []
    const place = async (url: string): Promise<void> => {
      const r = await call(`${url}/api/orders`, 'POST', { customerId, lines: [{ sku: 'cup', quantity: 1, unitPrice: 300 }], currency: 'EUR' }, CLERK).catch(() => null)
      if (r?.status === 201) accepted.push((r.body as { id: string }).id)
    }
    // kill -9 the moment the broker hands on the 10th fact: its PUBACK is on its way, unseen.
    const kill = wire.wait((m) => m.topic.endsWith('/fact/created'), 10, 20_000).then(() => child!.proc.kill('SIGKILL'))
    for (let i = 0; i < 20 && child.proc.exitCode === null && child.proc.signalCode === null; i++) await place(child.url)
    await kill
    await child.exited
    child = await startOrdersProcess(hub, join(dir, 'orders'), password)
    for (let i = 0; i < 5; i++) await place(child.url)
    await receiver.until(accepted.length)
    const ledger = hub.hub.ledger.read({ topic: 'shop/orders/#', limit: 1000 }).map((e) => e.fact.data as { orderId: string })
    expect(ledger.map((d) => d.orderId)).toStrictEqual(accepted)
    expect(receiver.got.map((g) => g.body.fact.subject)).toStrictEqual(accepted.map((id) => `shop/orders/${id}`))
    expect(receiver.duplicates()).toBe(0)
    // The fact in flight at the kill usually goes out twice (same id, the ledger keeps one row); the consumer acts once.
    expect(new Set(wire.messages.map((m) => m.payload)).size).toBe(accepted.length)
    await watcher.endAsync()
    expect((await runCli(['service', 'orders', '--broker', hub.mqttUrl, '--data-dir', join(dir, 'orders'), '--failed'])).stdout).toBe(`no failed facts in ${join(dir, 'orders', 'orders.sqlite')}\n`)
  }, 60_000)
})
