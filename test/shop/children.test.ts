import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { isRunning, startHubProcess, type HubProcess, type Running } from '../helpers/process.ts'
import { call } from './shop.ts'

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Resolves once the process is gone: its exit is an event of its parent, not ours, so look. */
async function gone (pid: number, ms = 15_000): Promise<void> {
  const until = Date.now() + ms
  while (alive(pid)) {
    if (Date.now() > until) throw new Error(`process ${pid} still runs after ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('homefacts start with the shop services as child processes', () => {
  let hub: HubProcess | undefined
  let dir = ''
  afterEach(async () => {
    if (hub && hub.proc.exitCode === null && hub.proc.signalCode === null) hub.proc.kill('SIGTERM')
    await hub?.exited
    hub = undefined
    rmSync(dir, { recursive: true, force: true })
  })

  it('serves /api/orders through the hub, restarts the orders child after a kill -9, and stops every child with the hub', async () => {
    dir = mkdtempSync(join(tmpdir(), 'homefacts-children-'))
    hub = await startHubProcess(dir, ['--shop-enabled', 'true'])
    const [orders, customers, notifications] = await Promise.all(['orders', 'customers', 'notifications'].map((n) => hub!.waitForLog<Running>(isRunning(n))))
    expect(new Set([hub.proc.pid, orders!.pid, customers!.pid, notifications!.pid]).size).toBe(4)
    const watcher = await connect(hub.mqttUrl, { username: hub.admin.username, password: hub.admin.password })
    const wire = new Inbox(watcher)
    await watcher.subscribeAsync('shop/orders/+/fact/created', { qos: 1 })

    const customer = await call(`${hub.httpUrl}/api/customers`, 'POST', { name: 'Ann', phone: '+44 7700 900123' }, hub.admin)
    expect(customer.status).toBe(201)
    const customerId = (customer.body as { id: string }).id
    const place = () => call(`${hub!.httpUrl}/api/orders`, 'POST', { customerId, lines: [{ sku: 'cup', quantity: 1, unitPrice: 300 }], currency: 'EUR' }, hub!.admin)
    const first = await place()
    expect(first.status).toBe(201)
    const firstId = (first.body as { id: string }).id
    const [created] = await wire.wait((m) => m.topic === `shop/orders/${firstId}/fact/created`, 1, 10_000)
    expect(JSON.parse(created!.payload)).toMatchObject({ type: 'order.created', subject: `shop/orders/${firstId}`, data: { orderId: firstId, customerId, total: 300 } })

    process.kill(orders!.pid, 'SIGKILL')
    const exit = await hub.waitForLog<{ msg: string, service: string, signal: string }>((e) => e.service === 'orders' && e.signal === 'SIGKILL')
    expect(exit.msg).toBe(`orders (process ${orders!.pid}) exited (SIGKILL); restarting it in 1 s`)
    const again = await hub.waitForLog<Running>(isRunning('orders', orders!.pid))
    expect(alive(orders!.pid)).toBe(false)
    expect((await call(`${hub.httpUrl}/api/orders/${firstId}`, 'GET', undefined, hub.admin)).body).toMatchObject({ id: firstId, customerId })
    const second = await place()
    expect(second.status).toBe(201)
    const secondId = (second.body as { id: string }).id
    await wire.wait((m) => m.topic === `shop/orders/${secondId}/fact/created`, 1, 10_000)
    await watcher.endAsync()

    hub.proc.kill('SIGTERM')
    expect(await hub.exited).toBe(0)
    for (const pid of [again.pid, customers!.pid, notifications!.pid]) expect(alive(pid)).toBe(false)
  }, 60_000)

  it('leaves no orphan when the hub is killed with kill -9: each child exits by itself', async () => {
    dir = mkdtempSync(join(tmpdir(), 'homefacts-children-'))
    hub = await startHubProcess(dir, ['--shop-enabled', 'true'])
    const children = await Promise.all(['orders', 'customers', 'notifications'].map((n) => hub!.waitForLog<Running>(isRunning(n))))
    hub.proc.kill('SIGKILL')
    await hub.exited
    await Promise.all(children.map((c) => gone(c.pid)))
  }, 60_000)
})
