import { join } from 'node:path'
import type { Agent } from 'node:https'
import type { Database } from 'better-sqlite3'
import type { Logger } from 'pino'
import { openDatabase } from '../lib/db.ts'
import { Relay } from '../lib/relay.ts'
import type { Channel, Notice } from '../lib/channels/channel.ts'
import { NtfyChannel } from '../lib/channels/ntfy.ts'
import { WebhookChannel } from '../lib/channels/webhook.ts'
import { WebPushChannel, loadOrCreateVapid } from '../lib/channels/webpush.ts'
import { parseHousehold } from '../household/index.ts'
import type { HouseholdConfig } from '../household/config.ts'
import type { LiveHousehold } from '../household/live.ts'
import { PhonesConfig } from './config.ts'
import { Notifier } from './notifier.ts'
import { PhoneStore } from './store.ts'

export { PhonesConfig } from './config.ts'
export { registerPhoneApp, WEB_DIST } from './http.ts'
export { PhoneStore } from './store.ts'

/** Files the phones part keeps in the hub's data folder. */
export const phoneFiles = (dataDir: string) => ({
  db: join(dataDir, 'phones.sqlite'),
  vapid: join(dataDir, 'vapid.json')
})

/** The VAPID keys of this hub, generated on first use and kept in `vapid.json`. */
export const vapidOf = (dataDir: string, config: PhonesConfig) => loadOrCreateVapid(phoneFiles(dataDir).vapid, config.pushSubject)

/** Opens `phones.sqlite` (the web app and the notifier each hold a connection; WAL lets them share it). */
export function openPhoneStore (dataDir: string): { store: PhoneStore, db: Database } {
  const db = openDatabase(phoneFiles(dataDir).db)
  return { store: new PhoneStore(db), db }
}

export interface PhonesOptions {
  config: PhonesConfig
  /** The household now (members' ntfy and webhook channels); it changes while the hub runs. */
  household: () => HouseholdConfig
  dataDir: string
  mqttUrl: string
  credentials: () => Promise<{ username: string, password?: string }>
  log: Logger
  onSent?: (notice: Notice, channel: Channel) => void
  /** The HTTPS agent for push services (a proxy, or the CA of a private push service such as a test's). */
  pushAgent?: Agent
}

/**
 * The phones service: the notifier on its own sessions, and a relay for its facts. Each
 * member's channels are their Web Push subscriptions (made in the web app) and the `phones`
 * the config gives them (ntfy, webhook).
 */
export class Phones {
  #opts: PhonesOptions
  #db: Database | null = null
  #relay: Relay | null = null
  #notifier: Notifier | null = null

  constructor (opts: PhonesOptions) {
    this.#opts = opts
  }

  async start (): Promise<void> {
    const { config, household, dataDir, log } = this.#opts
    if (!config.enabled) return
    const { store, db } = openPhoneStore(dataDir)
    this.#db = db
    const vapid = vapidOf(dataDir, config)
    const channelsFor = (member: string): Channel[] => [
      ...store.subscriptions(member).map((subscription) => new WebPushChannel({ subscription, vapid, ...(this.#opts.pushAgent ? { agent: this.#opts.pushAgent } : {}) })),
      ...(household().members.find((m) => m.name === member)?.phones ?? []).map((p): Channel => p.kind === 'ntfy'
        ? new NtfyChannel({ url: p.address, ...(p.token ? { token: p.token } : {}) })
        : new WebhookChannel(p.address))
    ]
    this.#relay = new Relay({ outbox: store.outbox, url: this.#opts.mqttUrl, clientId: 'phones-out', credentials: this.#opts.credentials, log: log.child({ part: 'relay' }) })
    await this.#relay.start()
    this.#notifier = new Notifier({
      url: this.#opts.mqttUrl,
      credentials: this.#opts.credentials,
      store,
      channelsFor,
      log,
      ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
      retryAttempts: config.retryAttempts,
      retryFirstMs: config.retryFirstMs,
      evidenceTimeoutMs: config.evidenceTimeoutMs,
      ...(this.#opts.onSent ? { onSent: this.#opts.onSent } : {})
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
  }
}

/** What the hub hands a service (structurally the hub's `ServiceContext`). */
export interface PhonesContext {
  config: { dataDir: string, household?: unknown, phones?: unknown }
  household?: LiveHousehold
  mqttUrl: string
  credentials: (name: string, account?: { role?: 'service' }) => Promise<{ username: string, password?: string }>
  log: Logger
}

/** The service definition registered in `services/hub/services.ts`. */
export const phonesService = {
  name: 'phones',
  describe: 'Notifies household members\' phones (Web Push, ntfy, webhook) and withdraws what is resolved',
  create: (ctx: PhonesContext): Phones => {
    const fixed = ctx.household ? undefined : parseHousehold(ctx.config.household)
    return new Phones({
    config: PhonesConfig.parse(ctx.config.phones ?? {}),
    household: () => ctx.household?.current ?? fixed!,
    dataDir: ctx.config.dataDir,
    mqttUrl: ctx.mqttUrl,
    credentials: () => ctx.credentials('phones', { role: 'service' }),
    log: ctx.log
    })
  }
}
