import { join, resolve } from 'node:path'
import type { Database } from 'better-sqlite3'
import type { ShopContext } from '../lib/context.ts'
import { openDatabase } from '../lib/db.ts'
import { Relay } from '../lib/relay.ts'
import { LogChannel, WebhookChannel, type Channel } from '../lib/channels/index.ts'
import { Consumer } from './adapter.ts'
import { NotificationStore } from './store.ts'
import type { NotificationsConfig } from './config.ts'

export { LogChannel, WebhookChannel, type Channel } from '../lib/channels/index.ts'

/**
 * The Notifications service: one persistent session on the shop's facts, a local store of
 * contact details (it never calls Customers), and its `notification.sent` facts through its
 * own outbox and relay. `channels` replaces those the config names (tests).
 */
export class Notifications {
  readonly store: NotificationStore
  readonly relay: Relay
  readonly consumer: Consumer
  #db: Database

  constructor (ctx: ShopContext<{ notifications: NotificationsConfig }>, channels?: Channel[]) {
    const { config, mqttUrl, log } = ctx
    const credentials = () => ctx.credentials('notifications', { role: 'notifications' })
    this.#db = openDatabase(join(resolve(config.dataDir), 'notifications.sqlite'))
    this.store = new NotificationStore(this.#db)
    channels ??= [new LogChannel(log), ...(config.notifications.webhookUrl ? [new WebhookChannel(config.notifications.webhookUrl)] : [])]
    this.relay = new Relay({ outbox: this.store.outbox, url: mqttUrl, clientId: 'notifications-out', credentials, log: log.child({ part: 'relay' }) })
    this.consumer = new Consumer({ url: mqttUrl, clientId: 'notifications', credentials, store: this.store, channels, log })
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

/** The service definition registered in `services/hub/services.ts`. */
export const notificationsService = {
  name: 'notifications',
  describe: 'Tells customers about their orders from a local store of contact details; notification.sent facts',
  create: (ctx: ShopContext<{ notifications: NotificationsConfig }>) => new Notifications(ctx)
}
