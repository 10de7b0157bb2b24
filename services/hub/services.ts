import type { Logger } from 'pino'
import type { HubConfig } from './config.ts'
import type { Credentials } from './secrets.ts'
import type { Account } from './hub.ts'
import { householdService } from '../household/index.ts'
import { ordersService } from '../orders/service.ts'
import { customersService } from '../customers/service.ts'
import { notificationsService } from '../notifications/service.ts'

/** What the hub hands a service it starts: where the broker is and who to connect as. */
export interface ServiceContext {
  config: HubConfig
  /** `mqtt://127.0.0.1:<port>` of the hub's broker. */
  mqttUrl: string
  /** Credentials of a service user with the given name, created on first use. */
  credentials: (name: string, account?: Account) => Promise<Credentials>
  log: Logger
}

/** A service the hub runs in its own process, over its own MQTT connection. */
export interface Service {
  start: () => Promise<void>
  stop: () => Promise<void>
  /** A service with its own HTTP API: the hub proxies `prefix` to `url` once it has started. */
  readonly proxy?: { prefix: string, url: string }
}

export interface ServiceDefinition {
  name: string
  describe: string
  create: (ctx: ServiceContext) => Service
}

/** Every service `homefacts start` runs. A new service is one line here. */
export const services: ServiceDefinition[] = [
  householdService,
  ordersService,
  customersService,
  notificationsService
]
