import { existsSync, readFileSync } from 'node:fs'
import { z } from 'zod'
import { Codes, HomefactsError, deepFreeze } from '#contract'
import { BrokerConfig } from '../../broker/index.ts'
import { HouseholdConfig } from '../household/config.ts'
import { OrdersConfig } from '../orders/config.ts'
import { CustomersConfig } from '../customers/config.ts'
import { NotificationsConfig } from '../notifications/config.ts'
import { PhonesConfig } from '../phones/config.ts'
import { EstateConfig } from '../../estate/config.ts'

/** The one hub config schema: every scalar key also comes from `HOMEFACTS_<KEY>` or `--<key>`; later sources win. */
export const HubConfig = BrokerConfig.extend({
  dataDir: z.string().min(1).default('.homefacts').describe('Where users, the ledger and broker sessions are kept'),
  http: z.strictObject({
    host: z.string().min(1).default('0.0.0.0').describe('Address the HTTP server (API, MQTT over WebSocket) binds'),
    port: z.number().int().min(0).max(65535).default(8080).describe('HTTP port (0 picks a free one)')
  }).prefault({}).describe('The HTTP server'),
  https: z.strictObject({
    enabled: z.boolean().default(true).describe('Serve the web app, the API and MQTT over WebSocket (WSS) over HTTPS too: phones need it for the service worker, Web Push and installing the app'),
    host: z.string().min(1).default('0.0.0.0').describe('Address the HTTPS server binds'),
    port: z.number().int().min(0).max(65535).default(8443).describe('HTTPS port (0 picks a free one)'),
    cert: z.string().min(1).optional().describe('PEM certificate (chain) file to serve instead of the one the hub makes in <dataDir>/certs (homefacts certs)'),
    key: z.string().min(1).optional().describe('PEM private key file that goes with https.cert')
  }).prefault({}).refine((h) => (h.cert === undefined) === (h.key === undefined), 'https.cert and https.key go together: give both or neither').describe('The HTTPS server'),
  log: z.strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').describe('Log level'),
    pretty: z.boolean().optional().describe('Human-readable logs; default: on when stdout is a terminal')
  }).prefault({}).describe('Logging'),
  household: HouseholdConfig.prefault({}),
  nodeRed: z.strictObject({
    enabled: z.boolean().default(true).describe('Run the Node-RED flow editor and flows as a child process'),
    host: z.string().min(1).default('0.0.0.0').describe('Address the Node-RED editor binds'),
    port: z.number().int().min(0).max(65535).default(1880).describe('Node-RED editor port (0 picks a free one)'),
    claimAs: z.array(z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/)).default([]).describe('Household members the flows may claim as')
  }).prefault({}).describe('Node-RED'),
  shop: z.strictObject({
    enabled: z.boolean().default(false).describe('Run Orders, Customers and Notifications as child processes of the hub (restarted with backoff), and serve /api/orders and /api/customers; off: a household without a shop does not pay for one')
  }).prefault({}).describe('The shop services'),
  orders: OrdersConfig.prefault({}),
  customers: CustomersConfig.prefault({}),
  notifications: NotificationsConfig.prefault({}),
  phones: PhonesConfig.prefault({}),
  // No default: without the section the hub is in no estate.
  estate: EstateConfig.optional()
}).describe('homefacts hub config')

export type HubConfig = Readonly<z.infer<typeof HubConfig>>

/** One scalar key of the schema, with the names it has in each source. */
export interface ConfigKey {
  path: string[]
  key: string
  env: string
  flag: string
  kind: 'number' | 'boolean' | 'string'
  description: string
  default?: unknown
}

const snake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
const kebab = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()

/** The schema without its optional, default and prefault wrappers, and the default it gives. */
export function unwrap (schema: z.ZodType): { inner: z.ZodType, def?: unknown } {
  let s: z.ZodType = schema
  let def: unknown
  for (;;) {
    if (s instanceof z.ZodDefault) {
      def = s.def.defaultValue
      s = s.def.innerType as z.ZodType
    } else if (s instanceof z.ZodOptional || s instanceof z.ZodPrefault) {
      s = s.def.innerType as z.ZodType
    } else return { inner: s, def }
  }
}

/** Every scalar key in a config schema, for env variables, flags and docs/configuration.md. */
export function configKeys (schema: z.ZodObject = HubConfig, prefix: string[] = []): ConfigKey[] {
  const keys: ConfigKey[] = []
  for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const path = [...prefix, name]
    const { inner, def } = unwrap(field)
    if (inner instanceof z.ZodObject) {
      keys.push(...configKeys(inner, path))
      continue
    }
    const kind = inner instanceof z.ZodNumber ? 'number' : inner instanceof z.ZodBoolean ? 'boolean' : inner instanceof z.ZodString || inner instanceof z.ZodEnum ? 'string' : null
    if (!kind) continue
    keys.push({
      path,
      key: path.join('.'),
      env: `HOMEFACTS_${path.map(snake).join('_')}`,
      flag: `--${path.map(kebab).join('-')}`,
      kind,
      description: field.description ?? inner.description ?? '',
      ...(def !== undefined ? { default: def } : {})
    })
  }
  return keys
}

/** Turns an env or flag string into the key's kind; a bad value is kept, so zod names it. */
function coerce (kind: ConfigKey['kind'], raw: string): unknown {
  if (kind === 'number') return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw
  if (kind === 'boolean') return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw
  return raw
}

function setPath (target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target
  for (const p of path.slice(0, -1)) {
    const next = node[p]
    node = (next && typeof next === 'object' ? next : (node[p] = {})) as Record<string, unknown>
  }
  node[path[path.length - 1]!] = value
}

function merge (a: unknown, b: unknown): unknown {
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) }
    for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v)
    return out
  }
  return b === undefined ? a : b
}

export interface ConfigSources {
  /** Path of a JSON config file; when absent, `./homefacts.config.json` is read if it exists. */
  file?: string
  env?: NodeJS.ProcessEnv
  /** Flag values by key (`mqtt.port`), as strings or already typed. */
  flags?: Record<string, unknown>
}

export const DEFAULT_CONFIG_FILE = 'homefacts.config.json'

/** Reads a JSON config file; a missing or broken file is a coded error naming the file. */
export function readConfigFile (path: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new HomefactsError(Codes.CONFIG, `cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new HomefactsError(Codes.CONFIG, `config file ${path} is not valid JSON: ${(err as Error).message}`)
  }
}

/** The frozen config from defaults, the file, the environment and flags; `HF_CONFIG` names each bad key and its source. */
export function loadConfig<S extends z.ZodObject = typeof HubConfig> (sources: ConfigSources = {}, schema: S = HubConfig as unknown as S): Readonly<z.infer<S>> {
  const keys = configKeys(schema)
  const origin = new Map<string, string>()
  const file = sources.file ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined)
  let raw: unknown = {}
  if (file) {
    raw = readConfigFile(file)
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new HomefactsError(Codes.CONFIG, `config file ${file} must hold a JSON object`)
    for (const k of keys) origin.set(k.key, `config file ${file}`)
  }
  const env = sources.env ?? {}
  const layer: Record<string, unknown> = {}
  for (const k of keys) {
    const v = env[k.env]
    if (v !== undefined) {
      setPath(layer, k.path, coerce(k.kind, v))
      origin.set(k.key, `environment variable ${k.env}`)
    }
    const flag = sources.flags?.[k.key]
    if (flag !== undefined) {
      setPath(layer, k.path, typeof flag === 'string' ? coerce(k.kind, flag) : flag)
      origin.set(k.key, `flag ${k.flag}`)
    }
  }
  const r = schema.safeParse(merge(raw, layer))
  if (!r.success) {
    const issues = r.error.issues.map((i) => {
      const key = i.path.map(String).join('.')
      const from = origin.get(key) ?? (file ? `config file ${file}` : 'defaults')
      const message = i.code === 'unrecognized_keys'
        ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((x) => `"${key ? key + '.' : ''}${x}"`).join(', ')}`
        : i.message
      return { path: key || '(top level)', message: `${message} (from ${from})` }
    })
    throw new HomefactsError(Codes.CONFIG, `invalid config:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`, issues)
  }
  return deepFreeze(r.data) as Readonly<z.infer<S>>
}
