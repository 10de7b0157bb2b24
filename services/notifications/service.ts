import { resolve } from 'node:path'
import type { ShopContext } from '../lib/context.ts'
import type { NotificationsConfig } from './config.ts'
import { Notifications } from './index.ts'

/** The service definition registered in `services/hub/services.ts`. */
export const notificationsService = {
  name: 'notifications',
  describe: 'Tells customers about their orders from a local store of contact details; notification.sent facts',
  create: (ctx: ShopContext<{ notifications: NotificationsConfig }>) => new Notifications({
    config: ctx.config.notifications,
    dataDir: resolve(ctx.config.dataDir),
    mqttUrl: ctx.mqttUrl,
    credentials: () => ctx.credentials('notifications', { role: 'notifications' }),
    log: ctx.log
  })
}
