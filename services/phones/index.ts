import { join } from 'node:path'
import type { Agent } from 'node:https'
import type { Database } from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { openDatabase } from '../lib/db.ts'
import { Relay } from '../lib/relay.ts'
import type { Channel, Notice } from '../lib/channels/channel.ts'
import { NtfyChannel } from '../lib/channels/ntfy.ts'
import { WebhookChannel } from '../lib/channels/webhook.ts'
import { WebPushChannel, loadOrCreateVapid, type Vapid } from '../lib/channels/webpush.ts'
import { PhonesConfig, type PhonesHousehold } from './config.ts'
import { registerPhoneApp, type PhonesHub } from './http.ts'
import { Notifier } from './notifier.ts'
import { PhoneStore } from './store.ts'

export { PhonesConfig } from './config.ts'
export type { PhonesHub, LedgerFact } from './http.ts'

/** What the hub hands the phones (structurally the hub's `ServiceContext`). */
export interface PhonesContext {
  config: { dataDir: string, phones: PhonesConfig }
  /** The household now (members' ntfy and webhook channels); it changes while the hub runs. */
  household: { readonly current: PhonesHousehold }
  mqttUrl: string
  credentials: (name: string, account?: { role?: 'service' }) => Promise<{ username: string, password?: string }>
  /** The hub's users, tokens and ledger: with them the phones serve the web app too. */
  hub?: PhonesHub | undefined
  log: Logger
}

/** What only a test or the bench gives the phones. */
export interface PhonesExtras {
  onSent?: (notice: Notice, channel: Channel) => void
  /** The HTTPS agent for push services (a proxy, or the CA of a private push service such as a test's). */
  pushAgent?: Agent
}

/**
 * The phones part: the household web app (logins, push subscriptions, the trace view) and the
 * notifier on its own sessions with a relay for its facts, on one connection to `phones.sqlite`.
 * Each member's channels are their Web Push subscriptions (made in the web app) and the `phones`
 * the config gives them (ntfy, webhook). Built here, started by `start()`.
 */
export class Phones {
  #ctx: PhonesContext
  #extra: PhonesExtras
  #db: Database | null = null
  #store: PhoneStore | null = null
  #vapid: Vapid | null = null
  #relay: Relay | null = null
  #notifier: Notifier | null = null

  constructor (ctx: PhonesContext, extra: PhonesExtras = {}) {
    this.#ctx = ctx
    this.#extra = extra
  }

  /** The web app's routes, for the hub's HTTP server: registered before it listens, they answer once the phones started. */
  routes = async (app: FastifyInstance): Promise<void> => {
    const { config, household, hub, log } = this.#ctx
    if (!config.phones.enabled || !hub) return
    await registerPhoneApp(app, { config: config.phones, household: () => household.current, hub, store: () => this.#started().store, vapidPublicKey: () => this.#started().vapid.publicKey, log })
  }

  #started (): { store: PhoneStore, vapid: Vapid } {
    if (!this.#store || !this.#vapid) throw new Error('the phones are not started')
    return { store: this.#store, vapid: this.#vapid }
  }

  async start (): Promise<void> {
    const { config: { phones: config, dataDir }, household, mqttUrl, log } = this.#ctx
    const { pushAgent, onSent } = this.#extra
    if (!config.enabled) return
    const credentials = () => this.#ctx.credentials('phones', { role: 'service' })
    const db = openDatabase(join(dataDir, 'phones.sqlite'))
    this.#db = db
    const store = new PhoneStore(db)
    this.#store = store
    const vapid = loadOrCreateVapid(join(dataDir, 'vapid.json'), config.pushSubject)
    this.#vapid = vapid
    const channelsFor = (member: string): Channel[] => [
      ...store.subscriptions(member).map((subscription) => new WebPushChannel({ subscription, vapid, ...(pushAgent ? { agent: pushAgent } : {}) })),
      ...(household.current.members.find((m) => m.name === member)?.phones ?? []).map((p): Channel => p.kind === 'ntfy'
        ? new NtfyChannel({ url: p.address, ...(p.token ? { token: p.token } : {}) })
        : new WebhookChannel(p.address))
    ]
    this.#relay = new Relay({ outbox: store.outbox, url: mqttUrl, clientId: 'phones-out', credentials, log: log.child({ part: 'relay' }) })
    await this.#relay.start()
    this.#notifier = new Notifier({
      url: mqttUrl,
      credentials,
      store,
      channelsFor,
      log,
      ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
      retryAttempts: config.retryAttempts,
      retryFirstMs: config.retryFirstMs,
      evidenceTimeoutMs: config.evidenceTimeoutMs,
      ...(onSent ? { onSent } : {})
    })
    await this.#notifier.start()
  }

  async stop (): Promise<void> {
    await this.#notifier?.stop()
    await this.#relay?.stop()
    this.#db?.close()
    this.#notifier = null
    this.#relay = null
    this.#db = null
    this.#store = null
  }
}

/** The service definition registered in `services/hub/services.ts`. */
export const phonesService = {
  name: 'phones',
  describe: 'The household web app, and notifications to members\' phones (Web Push, ntfy, webhook), withdrawn once resolved',
  create: (ctx: PhonesContext): Phones => new Phones(ctx)
}
