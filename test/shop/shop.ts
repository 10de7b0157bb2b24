import { createServer, type IncomingMessage, type Server } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { createOrders } from '../../services/orders/index.ts'
import { createCustomers } from '../../services/customers/index.ts'
import { Notifications, WebhookChannel } from '../../services/notifications/index.ts'
import type { HttpProducer } from '../../services/lib/producer.ts'
import { PROXY_HEADERS } from '../../services/lib/http.ts'

export const log = pino({ level: process.env.HOMEFACTS_TEST_LOG ?? 'silent' })

/** A temp data folder for the shop services, apart from the hub's. */
export function tempDir (): string {
  return mkdtempSync(join(tmpdir(), 'homefacts-shop-'))
}

/** The secret the shop services the tests start share with their callers, as the hub's proxy would. */
export const PROXY_SECRET = 'a-test-proxy-secret'

/** A hub user's HTTP Basic credentials (through the hub), or a caller as the hub's proxy vouches for one (straight to a service). */
export type Auth = { username: string, password: string } | { username: string, role: string, secret?: string }

const authHeaders = (auth: Auth): Record<string, string> => 'password' in auth
  ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` }
  : { [PROXY_HEADERS.secret]: auth.secret ?? PROXY_SECRET, [PROXY_HEADERS.user]: auth.username, [PROXY_HEADERS.role]: auth.role }

/** A shop clerk, as the hub's proxy vouches for one. */
export const CLERK: Auth = { username: 'clerk', role: 'shop' }

/** HTTP as `auth`, answering status and parsed JSON. */
export async function call (url: string, method: string, body: unknown, auth?: Auth): Promise<{ status: number, body: unknown }> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(auth ? authHeaders(auth) : {})
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {})
  })
  return { status: res.status, body: await res.json() }
}

/** Starts Orders against a hub (or any broker URL), with its data in `dir`. */
export async function startOrders (hub: TestHub, dir: string, opts: { mqttUrl?: string, credentials?: { username: string, password: string }, protocolVersion?: 4 | 5 } = {}): Promise<HttpProducer> {
  const orders = createOrders({
    config: { dataDir: dir, orders: { host: '127.0.0.1', port: 0 } },
    proxySecret: PROXY_SECRET,
    mqttUrl: opts.mqttUrl ?? hub.mqttUrl,
    credentials: async (name, account) => opts.credentials ?? await hub.hub.credentials(name, account),
    log
  }, opts.protocolVersion ? { protocolVersion: opts.protocolVersion } : {})
  await orders.start()
  return orders
}

export async function startCustomers (hub: TestHub, dir: string): Promise<HttpProducer> {
  const customers = createCustomers({
    config: { dataDir: dir, customers: { host: '127.0.0.1', port: 0 } },
    proxySecret: PROXY_SECRET,
    mqttUrl: hub.mqttUrl,
    credentials: (name, account) => hub.hub.credentials(name, account),
    log
  })
  await customers.start()
  return customers
}

export async function startNotifications (hub: TestHub, dir: string, webhook: string, opts: { mqttUrl?: string } = {}): Promise<Notifications> {
  const n = new Notifications({
    config: { dataDir: dir, notifications: {} },
    mqttUrl: opts.mqttUrl ?? hub.mqttUrl,
    credentials: (name, account) => hub.hub.credentials(name, account),
    log
  }, [new WebhookChannel(webhook)])
  await n.start()
  return n
}

/** What the webhook receiver got: the body and the Idempotency-Key of each POST. */
export interface Received {
  key: string
  body: { event: string, recipient: string, title: string, message: string, priority: string, to: { name: string, phone?: string, email?: string }, fact: { id: string, type: string, subject: string } }
}

/** A real local HTTP receiver that counts every POST, duplicates included, and lets a test await them. */
export class Receiver {
  readonly got: Received[] = []
  #server: Server
  #waiters: { n: number, resolve: () => void }[] = []

  constructor () {
    this.#server = createServer((req: IncomingMessage, res) => {
      let raw = ''
      req.on('data', (d: Buffer) => { raw += d.toString() })
      req.on('end', () => {
        this.got.push({ key: String(req.headers['idempotency-key']), body: JSON.parse(raw) as Received['body'] })
        res.writeHead(204).end()
        this.#waiters = this.#waiters.filter((w) => {
          if (this.got.length < w.n) return true
          w.resolve()
          return false
        })
      })
    })
  }

  async start (): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.#server.address() as { port: number }).port}/notify`
  }

  /** Resolves once `n` POSTs have arrived in all. */
  until (n: number, ms = 20_000): Promise<void> {
    if (this.got.length >= n) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`receiver got ${this.got.length} of ${n}`)), ms)
      this.#waiters.push({ n, resolve: () => { clearTimeout(timer); resolve() } })
    })
  }

  /** How many keys arrived more than once. */
  duplicates (): number {
    return this.got.length - new Set(this.got.map((g) => g.key)).size
  }

  stop (): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }
}

export const removeDir = (dir: string): void => rmSync(dir, { recursive: true, force: true })
