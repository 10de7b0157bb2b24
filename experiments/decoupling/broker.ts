import { join } from 'node:path'
import { pino } from 'pino'
import { createBroker, Ledger, UserStore } from '../../broker/index.ts'
import { BrokerConfig } from '../../broker/config.ts'

/**
 * The hub's own broker (contract check, ledger, ACL, durable sessions) alone, for steps 2 and 3:
 * `homefacts start` would also run Orders, Customers and Notifications in its process, and the
 * experiment must kill and restart each of them on its own. Prints `subscribed <clientId>` for
 * each subscription, so the harness knows when a consumer's session exists.
 */
export async function runBroker (dataDir: string, port: number, usersFile: string): Promise<void> {
  const log = pino({ level: 'warn' })
  const users = new UserStore(usersFile)
  users.load()
  const ledger = new Ledger(join(dataDir, 'ledger.sqlite'))
  ledger.open()
  const config = BrokerConfig.parse({ mqtt: { host: '127.0.0.1', port }, ws: { enabled: false }, statsSeconds: 3600 })
  const broker = createBroker(config, { log, users, ledger, sessionsFile: join(dataDir, 'sessions.sqlite') })
  await broker.start()
  broker.aedes.on('subscribe', (_subs, client) => { process.stdout.write(`subscribed ${client.id}\n`) })
  process.stdout.write(`broker ready ${broker.ports.mqtt}\n`)
  const stop = (): void => { void broker.stop().then(() => ledger.close()).finally(() => process.exit(0)) }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
