import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { Codes, HomefactsError } from '#contract'
import type { Role } from '../../broker/index.ts'
import type { HubConfig } from './config.ts'
import type { HouseholdConfig, HouseholdListener } from '../household/index.ts'
import { householdService } from '../household/index.ts'
import { phonesService, type PhonesHub } from '../phones/index.ts'
import { ordersService } from '../orders/index.ts'
import { customersService } from '../customers/index.ts'
import { notificationsService } from '../notifications/index.ts'

/** Which kind of account `Hub.credentials` creates: a role and, for a responder, its member. */
export interface Account {
  role?: Role
  member?: string
  /** For `nodered`: the members its flows may claim as. */
  members?: readonly string[]
  /** Keep the password already in secrets.json when the account changes (it is seeded into files). */
  keepPassword?: boolean
}

/** What a service is given, by the hub or by `homefacts service <name>`. */
export interface ServiceContext {
  config: HubConfig
  /** `mqtt://host:port` of the broker. */
  mqttUrl: string
  /** Credentials of an MQTT user with the given name (the hub creates it on first use). */
  credentials: (name: string, account?: Account) => Promise<{ username: string, password?: string }>
  /** The household, parsed once: the hub's follows the config file and the member users. */
  household: { readonly current: HouseholdConfig, onChange: (listener: HouseholdListener) => () => void }
  /** Shop APIs: the secret the hub's proxy sends with the requests it forwards. */
  proxySecret?: string | undefined
  /** Only in the hub: its users, MQTT tokens and ledger, which the phones' web app serves from. */
  hub?: PhonesHub | undefined
  log: Logger
}

/** A running service. */
export interface Service {
  start: () => Promise<void>
  stop: () => Promise<void>
  /** Routes for the hub's HTTP server, registered before it listens. */
  routes?: (app: FastifyInstance) => Promise<void>
  /** Its own HTTP API, once started (`http://127.0.0.1:<port>`): the hub proxies `/api/<name>` to it. */
  readonly url?: string
}

export interface ServiceDefinition {
  name: string
  describe: string
  /** Where `homefacts start` runs it: in the hub's process, or as a child (`homefacts service <name>`) when `shop.enabled`. */
  runs: 'hub' | 'child'
  /** It runs alone against any MQTT 5 broker too: `homefacts service <name> --broker <url>`. */
  standalone: boolean
  create: (ctx: ServiceContext) => Service
}

/** Every service, one line each: `start`, `service <name>`, the children and the docs read this. */
export const SERVICES: readonly ServiceDefinition[] = [
  { ...householdService, runs: 'hub', standalone: true },
  { ...phonesService, runs: 'hub', standalone: false },
  { ...ordersService, runs: 'child', standalone: true },
  { ...customersService, runs: 'child', standalone: true },
  { ...notificationsService, runs: 'child', standalone: true }
]

/** The definition of a service by name; throws the list of names for an unknown one. */
export function serviceNamed (name: string, which: (d: ServiceDefinition) => boolean = () => true): ServiceDefinition {
  const found = SERVICES.find((d) => d.name === name && which(d))
  if (found) return found
  throw new HomefactsError(Codes.CONFIG, `no service "${name}"; one of: ${SERVICES.filter(which).map((d) => d.name).join(', ')}`)
}
