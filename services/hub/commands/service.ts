import type { Command } from 'commander'
import { pino } from 'pino'
import { Codes, HomefactsError } from '#contract'
import { loadConfig } from '../config.ts'
import { Household } from '../../household/index.ts'
import { stopOnSignals } from './start.ts'
import { SHOP_SERVICES, runShopService, type ShopServiceFlags, type ShopServiceName } from './shop-service.ts'

/** Services that run alone against any MQTT 5 broker. */
const STANDALONE = ['household', ...SHOP_SERVICES] as const

export function register (program: Command): void {
  program.command('service <name>')
    .description(`Run one service alone against any MQTT 5 broker (${STANDALONE.join(', ')})`)
    .requiredOption('-b, --broker <url>', 'broker URL, e.g. mqtt://localhost:1883')
    .option('-u, --username <user>', 'MQTT user for every responder (default: household-<member> each, with --password)')
    .option('-p, --password <password>', 'MQTT password (or HOMEFACTS_SERVICE_PASSWORD)')
    .option('-c, --config <file>', 'JSON config file with the household section (default: ./homefacts.config.json when present)')
    .option('--data-dir <dir>', 'shop services: folder of <name>.sqlite (default: the dataDir config key)')
    .option('--users-file <file>', 'orders, customers: the hub users file for HTTP Basic (default: <data-dir>/users.json)')
    .option('--host <address>', 'orders, customers: address the API binds')
    .option('--port <port>', 'orders, customers: API port (orders.port / customers.port)')
    .option('--webhook-url <url>', 'notifications: also POST each notice to this URL')
    .option('--failed', 'orders, customers, notifications: print the facts the broker refused, and exit')
    .action(async (name: string, opts: { broker: string, username?: string, password?: string, config?: string } & ShopServiceFlags) => {
      if (!(STANDALONE as readonly string[]).includes(name)) throw new HomefactsError(Codes.CONFIG, `no standalone service "${name}"; one of: ${STANDALONE.join(', ')}`)
      if ((SHOP_SERVICES as readonly string[]).includes(name)) return runShopService(name as ShopServiceName, opts)
      const config = loadConfig({ ...(opts.config ? { file: opts.config } : {}), env: process.env })
      const password = opts.password ?? process.env.HOMEFACTS_SERVICE_PASSWORD
      if (config.household.members.length === 0) throw new HomefactsError(Codes.CONFIG, 'the household config lists no members: add household.members to the config file')
      const house = new Household({
        household: config.household,
        mqttUrl: opts.broker,
        credentials: async (username) => ({ username: opts.username ?? username, ...(password !== undefined ? { password } : {}) }),
        log: pino({ level: config.log.level })
      })
      stopOnSignals(() => house.stop())
      await house.start()
    })
}
