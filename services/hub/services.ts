import type { Logger } from 'pino'
import type { HubConfig } from './config.ts'
import type { Credentials } from './secrets.ts'
import type { Account } from './hub.ts'
import { householdService, type LiveHousehold } from '../household/index.ts'
import { phonesService } from '../phones/index.ts'

/** What the hub hands a service it starts: where the broker is and who to connect as. */
export interface ServiceContext {
  config: HubConfig
  /** `mqtt://127.0.0.1:<port>` of the hub's broker. */
  mqttUrl: string
  /** Credentials of a service user with the given name, created on first use. */
  credentials: (name: string, account?: Account) => Promise<Credentials>
  /** The household as it changes while the hub runs (config file and member users, issue 29). */
  household?: LiveHousehold
  log: Logger
}

/** A service the hub runs in the hub's process, over its own MQTT connection. */
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

/** Every service `homefacts start` runs in its own process. A new service is one line here. */
export const services: ServiceDefinition[] = [
  householdService,
  phonesService
]

/**
 * The services `homefacts start` runs as child processes (`homefacts service <name>`, see
 * `children.ts`), each with its own MQTT user and role (`broker/acl.ts`, `SHOP_GRANTS`).
 */
export const childServices = ['orders', 'customers', 'notifications'] as const
