import { join } from 'node:path'
import { Proc, freePort, httpUp, ownSpec, serviceSpec } from './processes.ts'
import { PROXY_SECRET } from './call.ts'

/** The passwords of the run's users file (a throwaway data folder per run). */
export const PASSWORDS = Object.freeze({ shop: 'shop-pw', orders: 'orders-pw', customers: 'customers-pw', notifications: 'notifications-pw', reader: 'reader-pw' })

export type Step = 1 | 2 | 3

/** The processes of one step, started: where the APIs are and which process is which. */
export interface Topology {
  ordersPort: number
  customersPort: number
  customers: Proc
  notifications: Proc
  all: Proc[]
}

/**
 * Starts one step's processes on loopback. Step 1: Orders1 → Notifications1 → the real Customers
 * (its relay points at a port nobody listens on: there is no broker). Step 2: the broker, the real
 * Orders and Customers, Notifications2 (MQTT in, HTTP to Customers). Step 3: the broker and the
 * three real services, each a `homefacts service <name>` process.
 */
export async function startStep (step: Step, dir: string, usersFile: string, webhookUrl: string): Promise<Topology> {
  const [mqttPort, ordersPort, customersPort, notifyPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
  const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`
  const all: Proc[] = []
  const proc = (p: Proc): Proc => { all.push(p); return p.start() }
  const svc = (name: 'orders' | 'customers' | 'notifications', extra: string[]): Proc =>
    proc(new Proc(serviceSpec(name, ['--broker', mqttUrl, '--username', name, '--password', PASSWORDS[name], '--data-dir', dir, '--proxy-secret', PROXY_SECRET, ...extra]), dir))
  const reader = { user: 'reader', password: PASSWORDS.reader, customersUrl: `http://127.0.0.1:${customersPort}`, webhookUrl }

  if (step !== 1) {
    const broker = proc(new Proc(ownSpec('broker', 'broker', { dataDir: join(dir, 'broker'), port: mqttPort, usersFile }), dir))
    await broker.printed('broker ready')
  }
  const customers = svc('customers', ['--port', String(customersPort)])
  let notifications: Proc
  let orders: Proc
  if (step === 1) {
    notifications = proc(new Proc(ownSpec('notifications1', 'notifications1', { port: notifyPort, ...reader }), dir))
    orders = proc(new Proc(ownSpec('orders1', 'orders1', { port: ordersPort, dataDir: dir, notificationsUrl: `http://127.0.0.1:${notifyPort}/notify` }), dir))
    await httpUp(notifyPort, notifications)
  } else {
    const broker = all[0]!
    notifications = step === 2
      ? proc(new Proc(ownSpec('notifications2', 'notifications2', { mqttUrl, mqttUser: 'notifications', mqttPassword: PASSWORDS.notifications, ...reader }), dir))
      : svc('notifications', ['--webhook-url', webhookUrl])
    // Orders publishes nothing before the first order, which waits for this subscription.
    orders = svc('orders', ['--port', String(ordersPort)])
    await broker.printed(step === 2 ? 'subscribed step2-notifications' : 'subscribed notifications')
  }
  await Promise.all([httpUp(ordersPort, orders), httpUp(customersPort, customers)])
  return { ordersPort, customersPort, customers, notifications, all }
}
