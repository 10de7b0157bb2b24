import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { Codes, HomefactsError } from '#contract'
import { loadConfig } from '../config.ts'
import { createLogger } from '../log.ts'
import { SERVICES, serviceNamed, type Service, type ServiceContext } from '../services.ts'
import { openDatabase } from '../../lib/db.ts'
import { Outbox } from '../../lib/outbox.ts'
import { stopOnSignals } from './start.ts'

interface ServiceFlags {
  broker: string
  username?: string
  password?: string
  config?: string
  dataDir?: string
  host?: string
  port?: string
  webhookUrl?: string
  proxySecret?: string
  failed?: boolean
}

const STANDALONE = SERVICES.filter((d) => d.standalone)
const APIS = ['orders', 'customers']

export function register (program: Command): void {
  program.command('service <name>')
    .description(`Run one service alone against any MQTT 5 broker (${STANDALONE.map((d) => d.name).join(', ')})`)
    .requiredOption('-b, --broker <url>', 'broker URL, e.g. mqtt://localhost:1883')
    .option('-u, --username <user>', 'MQTT user (default: the service\'s name; household: household-<member> for each member)')
    .option('-p, --password <password>', 'MQTT password (or HOMEFACTS_SERVICE_PASSWORD)')
    .option('-c, --config <file>', 'JSON config file (default: ./homefacts.config.json when present)')
    .option('--data-dir <dir>', 'folder of <name>.sqlite (default: the dataDir config key)')
    .option('--host <address>', `${APIS.join(', ')}: address the API binds`)
    .option('--port <port>', `${APIS.join(', ')}: API port (orders.port / customers.port)`)
    .option('--proxy-secret <secret>', `${APIS.join(', ')}: the secret the proxy in front sends (or HOMEFACTS_PROXY_SECRET); the hub gives its own to the services it starts`)
    .option('--webhook-url <url>', 'notifications: also POST each notice to this URL')
    .option('--failed', 'print the facts the broker refused from the service\'s outbox, and exit')
    .action(async (name: string, opts: ServiceFlags) => {
      const def = serviceNamed(name, (d) => d.standalone)
      const flags: Record<string, unknown> = {
        ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
        ...(opts.host && APIS.includes(name) ? { [`${name}.host`]: opts.host } : {}),
        ...(opts.port && APIS.includes(name) ? { [`${name}.port`]: opts.port } : {}),
        ...(opts.webhookUrl ? { 'notifications.webhookUrl': opts.webhookUrl } : {})
      }
      const config = loadConfig({ ...(opts.config ? { file: opts.config } : {}), env: process.env, flags })
      if (opts.failed) return printFailed(name, resolve(config.dataDir))
      if (name === 'household' && config.household.members.length === 0) throw new HomefactsError(Codes.CONFIG, 'the household config lists no members: add household.members to the config file')
      const password = opts.password ?? process.env.HOMEFACTS_SERVICE_PASSWORD
      // The hub's format, so a child's lines interleave readably with the hub's.
      const log = createLogger(config).child({ service: name })
      const ctx: ServiceContext = {
        config,
        mqttUrl: opts.broker,
        credentials: async (username) => ({ username: opts.username ?? username, ...(password !== undefined ? { password } : {}) }),
        // Alone, the household is the config section as it was at start.
        household: { current: config.household, onChange: () => () => {} },
        proxySecret: opts.proxySecret ?? process.env.HOMEFACTS_PROXY_SECRET,
        log
      }
      const service = def.create(ctx)
      stopOnSignals(() => service.stop())
      if (process.send) superviseBy(name, service)
      await service.start()
      // An API logs its own start, with its URL.
      if (!service.url) log.info(`${name} started`)
      process.send?.({ started: name, ...(service.url ? { url: service.url } : {}) })
    })
}

/** `--failed`: the outbox rows the broker refused. */
function printFailed (name: string, dataDir: string): void {
  const file = join(dataDir, `${name}.sqlite`)
  if (!existsSync(file)) throw new HomefactsError(Codes.CONFIG, `${name} keeps no outbox in ${dataDir} (no ${file})`)
  const db = openDatabase(file)
  const rows = new Outbox(db).failed()
  db.close()
  for (const r of rows) process.stdout.write(`${r.createdAt} ${r.topic} ${r.reason ?? ''}\n`)
  if (rows.length === 0) process.stdout.write(`no failed facts in ${file}\n`)
}

/**
 * Run by the hub over an IPC channel: the hub learns the API's URL from it, and when the hub goes
 * away, even by `kill -9`, the channel closes and the service stops. The channel keeps no process
 * alive, so a start that fails still exits.
 */
function superviseBy (name: string, service: Service): void {
  process.channel?.unref()
  process.once('disconnect', () => {
    process.stderr.write(`homefacts: ${name}: the hub went away; stopping\n`)
    service.stop().then(() => process.exit(0), () => process.exit(1))
  })
}
