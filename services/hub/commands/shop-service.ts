import { join, resolve } from 'node:path'
import { createLogger } from '../log.ts'
import { openDatabase } from '../../lib/db.ts'
import { Outbox } from '../../lib/outbox.ts'
import { createOrders } from '../../orders/index.ts'
import { createCustomers } from '../../customers/index.ts'
import { Notifications } from '../../notifications/index.ts'
import { loadConfig } from '../config.ts'
import { stopOnSignals } from './start.ts'

/** The shop services `homefacts service <name>` runs alone. */
export const SHOP_SERVICES = ['orders', 'customers', 'notifications'] as const
export type ShopServiceName = (typeof SHOP_SERVICES)[number]

export interface ShopServiceFlags {
  broker: string
  username?: string
  password?: string
  config?: string
  dataDir?: string
  usersFile?: string
  host?: string
  port?: string
  webhookUrl?: string
  failed?: boolean
}

/**
 * Runs Orders, Customers or Notifications alone against a broker. Its data lives in
 * `--data-dir` (`<name>.sqlite`), and an API checks HTTP Basic against `--users-file` (the hub's
 * `users.json`). `--failed` prints the outbox rows the broker refused, and exits.
 */
export async function runShopService (name: ShopServiceName, opts: ShopServiceFlags): Promise<void> {
  const flags: Record<string, unknown> = {
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    ...(opts.host && name !== 'notifications' ? { [`${name}.host`]: opts.host } : {}),
    ...(opts.port && name !== 'notifications' ? { [`${name}.port`]: opts.port } : {}),
    ...(opts.webhookUrl ? { 'notifications.webhookUrl': opts.webhookUrl } : {})
  }
  const config = loadConfig({ ...(opts.config ? { file: opts.config } : {}), env: process.env, flags })
  const dataDir = resolve(config.dataDir)
  if (opts.failed) {
    const file = join(dataDir, `${name}.sqlite`)
    const db = openDatabase(file)
    const rows = new Outbox(db).failed()
    db.close()
    for (const r of rows) process.stdout.write(`${r.createdAt} ${r.topic} ${r.reason ?? ''}\n`)
    if (rows.length === 0) process.stdout.write(`no failed facts in ${file}\n`)
    return
  }
  const password = opts.password ?? process.env.HOMEFACTS_SERVICE_PASSWORD
  const username = opts.username ?? name
  const credentials = async () => ({ username, ...(password !== undefined ? { password } : {}) })
  // The hub's format, so a child's lines interleave readably with the hub's (issue 29).
  const log = createLogger(config).child({ service: name })
  const usersFile = resolve(opts.usersFile ?? join(dataDir, 'users.json'))
  const base = { dataDir, mqttUrl: opts.broker, credentials, log }
  const service = name === 'orders'
    ? createOrders({ ...base, config: config.orders, usersFile })
    : name === 'customers'
      ? createCustomers({ ...base, config: config.customers, usersFile })
      : new Notifications({ ...base, config: config.notifications })
  stopOnSignals(() => service.stop())
  if (process.send) superviseBy(name, service)
  await service.start()
  // Orders and Customers log their own start, with their API's URL.
  if (!('url' in service)) log.info(`${name} started`)
  process.send?.({ started: name, ...('url' in service ? { url: service.url } : {}) })
}

/**
 * Run by the hub (`services/hub/children.ts`), over an IPC channel: the hub learns the API's
 * URL from it, and when the hub goes away, even by `kill -9`, the channel closes and the service
 * stops rather than live on as an orphan. The channel alone keeps no process alive, so a start
 * that fails still exits.
 */
function superviseBy (name: string, service: { stop: () => Promise<void> }): void {
  process.channel?.unref()
  process.once('disconnect', () => {
    process.stderr.write(`homefacts: ${name}: the hub went away; stopping\n`)
    service.stop().then(() => process.exit(0), () => process.exit(1))
  })
}
