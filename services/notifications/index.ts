import { join } from 'node:path'
import type { Database } from 'better-sqlite3'
import type { Logger } from 'pino'
import { openDatabase } from '../lib/db.ts'
import { Relay } from '../lib/relay.ts'
import { Consumer } from './adapter.ts'
import { LogChannel, WebhookChannel, type Channel } from './channels.ts'
import { NotificationStore } from './store.ts'
import type { NotificationsConfig } from './config.ts'

export { NotificationsConfig } from './config.ts'
export { LogChannel, WebhookChannel, type Channel } from './channels.ts'

export interface NotificationsOptions {
  config: NotificationsConfig
  /** Folder of `notifications.sqlite`. */
  dataDir: string
  mqttUrl: string
  credentials: () => Promise<{ username: string, password?: string }>
  log: Logger
  /** Replaces the channels the config names (tests, the phones issue). */
  channels?: Channel[]
}

/**
 * The Notifications service: one persistent session on the shop's facts, a local store of
 * contact details (it never calls Customers), and its `notification.sent` facts through its
 * own outbox and relay.
 */
export class Notifications {
  readonly store: NotificationStore
  readonly relay: Relay
  readonly consumer: Consumer
  #db: Database

  constructor (opts: NotificationsOptions) {
    this.#db = openDatabase(join(opts.dataDir, 'notifications.sqlite'))
    this.store = new NotificationStore(this.#db)
    const channels = opts.channels ?? [new LogChannel(opts.log), ...(opts.config.webhookUrl ? [new WebhookChannel(opts.config.webhookUrl)] : [])]
    this.relay = new Relay({ outbox: this.store.outbox, url: opts.mqttUrl, clientId: 'notifications-out', credentials: opts.credentials, log: opts.log.child({ part: 'relay' }) })
    this.consumer = new Consumer({ url: opts.mqttUrl, clientId: 'notifications', credentials: opts.credentials, store: this.store, channels, log: opts.log })
  }

  async start (): Promise<void> {
    await this.relay.start()
    await this.consumer.start()
  }

  async stop (): Promise<void> {
    await this.consumer.stop()
    await this.relay.stop()
    this.#db.close()
  }
}
