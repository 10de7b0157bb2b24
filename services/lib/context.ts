import type { Logger } from 'pino'

/** What the hub (or `homefacts service <name>`) hands a shop service: structurally its `ServiceContext`. */
export interface ShopContext<C> {
  config: { dataDir: string } & C
  mqttUrl: string
  /** Credentials of the service's MQTT user, with its own role (least privilege, `broker/acl.ts`). */
  credentials: (name: string, account: { role: 'orders' | 'customers' | 'notifications' }) => Promise<{ username: string, password?: string }>
  /** The secret the hub's proxy sends with the requests it forwards to the service's API. */
  proxySecret?: string | undefined
  log: Logger
}
