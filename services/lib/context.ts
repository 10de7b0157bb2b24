import { join, resolve } from 'node:path'
import type { Logger } from 'pino'

/** What the hub hands a shop service (structurally the hub's `ServiceContext`). */
export interface ShopContext<C> {
  config: { dataDir: string } & C
  mqttUrl: string
  /** Credentials of the service's MQTT user, with its own role (least privilege, `broker/acl.ts`). */
  credentials: (name: string, account: { role: 'orders' | 'customers' | 'notifications' }) => Promise<{ username: string, password?: string }>
  log: Logger
}

/** The hub's users file in its data folder, which the shop APIs check HTTP Basic against. */
export const usersFileOf = (dataDir: string): string => join(resolve(dataDir), 'users.json')
