// Writes docs/configuration.md from the hub's zod config schema (services/hub/config.ts), so the
// reference cannot drift from the code: test/docs/config-doc.test.ts fails when the file differs
// from what this writes. A script, not a `homefacts` command: the page belongs to the
// repository, and a hub on a Pi has no use for it (`homefacts start --help` lists every flag).
//
//   node --import tsx scripts/config-doc.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { HomefactsError } from '#contract'
import { HubConfig, configKeys, loadConfig, unwrap, type ConfigKey } from '../services/hub/config.ts'

export const CONFIG_DOC = fileURLToPath(new URL('../docs/configuration.md', import.meta.url))
export const COMMAND = 'node --import tsx scripts/config-doc.ts'

/**
 * What each section is for, in prose with links (paths relative to docs/). A section the schema
 * has and this map does not is introduced by its schema description.
 */
const SECTIONS: Record<string, string> = {
  mqtt: 'The MQTT listener over TCP. What the broker checks, limits and promises: [broker.md](broker.md).',
  mqtts: 'MQTT over TLS, with the certificate the hub serves over HTTPS ([https.md](https.md)).',
  ws: 'MQTT over WebSocket, on the HTTP port (and as WSS on the HTTPS port): the web app speaks it.',
  anonymous: 'A listener that lets clients in without credentials, with the role given here: for tests and conformance suites, never for a household. Off unless `anonymous.port` is set. It has no login or connection limits.',
  limits: 'What one client may cost the broker. Each limit is logged when it is hit and told on the wire: [broker.md, "Limits"](broker.md#limits).',
  '': 'The broker\'s timers, and the folder where the hub keeps its data ([running.md](running.md#the-data-folder)).',
  http: 'The HTTP server: the web app, the API (`/api/facts`, `/api/health`, the shop\'s `/api/orders` and `/api/customers`), MQTT over WebSocket and `/ca.crt`.',
  https: 'The same app over HTTPS, for phones: [https.md](https.md) says how the hub makes its certificate and how a phone trusts it.',
  log: 'Logs are JSON lines (pino) on stdout, pretty-printed when stdout is a terminal.',
  household: 'No config file is needed: every user with the `member` role is a household member with the defaults. The three scalar keys have flags; the lists (members, the policy of each fact type, quiet hours) live in the config file only, and [household.md](household.md#config-the-household-section) describes them, field by field. Edits to the section apply while the hub runs.',
  nodeRed: 'Node-RED, a child process of the hub: [node-red.md](node-red.md). `claimAs` (config file only) names the members the flows may claim for.',
  shop: 'The shop: Orders, Customers and Notifications, each a child process of the hub: [shop.md](shop.md).',
  orders: 'Where the Orders API listens; the hub proxies `/api/orders` to it ([shop.md](shop.md)).',
  customers: 'Where the Customers API listens; the hub proxies `/api/customers` to it ([shop.md](shop.md)).',
  notifications: 'The shop\'s Notifications service ([shop.md](shop.md)).',
  phones: 'The household web app and the notifications to members\' phones: [phones.md](phones.md).',
  estate: 'Houses linked by NATS JetStream: [estate.md](estate.md). The section has no default `site` or `servers`: without it the hub is in no estate. Lists are comma-separated, so every key has a flag and a variable.'
}

/** A config file that uses the sections without flags; the generator checks that the hub accepts it. */
const EXAMPLE = {
  mqtt: { port: 1883 },
  log: { level: 'info' },
  nodeRed: { enabled: true, claimAs: ['mummy'] },
  household: {
    members: [
      { name: 'mummy', phones: [{ kind: 'ntfy', address: 'https://ntfy.sh/our-house-mummy-x7' }] },
      { name: 'grandma', role: 'grandparent', presence: 'away' }
    ],
    quietHours: { start: '22:00', end: '07:00' }
  }
}

interface FileOnlyKey { key: string, default?: unknown, description: string }

/** The keys `configKeys()` leaves out (lists, records, nullable objects): set in the config file only. */
function fileOnlyKeys (schema: z.ZodObject, scalar: Set<string>, prefix: string[] = []): FileOnlyKey[] {
  const keys: FileOnlyKey[] = []
  for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const path = [...prefix, name]
    const { inner, def } = unwrap(field)
    if (inner instanceof z.ZodObject) keys.push(...fileOnlyKeys(inner, scalar, path))
    else if (!scalar.has(path.join('.'))) keys.push({ key: path.join('.'), description: field.description ?? inner.description ?? '', ...(def !== undefined ? { default: def } : {}) })
  }
  return keys
}

/** Table cell text: a description may hold `<dataDir>` or a `|`. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const section = (key: string): string => key.includes('.') ? key.split('.')[0]! : ''

/** JSON on one line, spaced as a person writes it. */
function flat (value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(flat).join(', ')}]`
  const entries = Object.entries(value)
  return entries.length === 0 ? '{}' : `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${flat(v)}`).join(', ')} }`
}

/** JSON with a value that fits in the line (`room` characters) kept on one line. */
function pretty (value: unknown, indent = '', room = 96): string {
  const line = flat(value)
  if (value === null || typeof value !== 'object' || line.length <= room) return line
  const inner = indent + '  '
  if (Array.isArray(value)) return `[\n${value.map((v) => inner + pretty(v, inner, 96 - inner.length)).join(',\n')}\n${indent}]`
  const items = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pretty(v, inner, 96 - inner.length - k.length - 4)}`)
  return `{\n${items.join(',\n')}\n${indent}}`
}

/** What `homefacts start` prints for a bad environment variable and a bad flag, as the hub words it. */
function invalidConfigExample (): string {
  const dir = mkdtempSync(join(tmpdir(), 'homefacts-config-doc-'))
  try {
    const file = join(dir, 'homefacts.config.json')
    writeFileSync(file, JSON.stringify(EXAMPLE))
    loadConfig({ file }) // the example must be a config the hub accepts
    try {
      loadConfig({ file, env: { HOMEFACTS_MQTT_PORT: 'one' }, flags: { 'http.port': '70000' } })
    } catch (err) {
      if (err instanceof HomefactsError) return `homefacts: ${err.message}`
      throw err
    }
    throw new Error('the bad values were accepted')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function keyTable (keys: ConfigKey[]): string[] {
  return [
    '| key | env variable | flag | default | what |',
    '|---|---|---|---|---|',
    ...keys.map((k) => `| \`${k.key}\` | \`${k.env}\` | \`${k.flag}\` | ${k.default === undefined ? '–' : `\`${JSON.stringify(k.default)}\``} | ${cell(k.description)} |`)
  ]
}

function fileOnlyTable (keys: FileOnlyKey[]): string[] {
  const long = keys.filter((k) => k.default !== undefined && JSON.stringify(k.default).length > 40)
  return [
    'In the config file only:',
    '',
    '| key | default | what |',
    '|---|---|---|',
    ...keys.map((k) => `| \`${k.key}\` | ${k.default === undefined ? '–' : long.includes(k) ? 'below' : `\`${JSON.stringify(k.default)}\``} | ${cell(k.description)} |`),
    ...long.flatMap((k) => ['', `The default \`${k.key}\`:`, '', '```json', pretty(k.default), '```'])
  ]
}

/** The whole of docs/configuration.md. */
export function configDoc (): string {
  const keys = configKeys()
  const fileOnly = fileOnlyKeys(HubConfig, new Set(keys.map((k) => k.key)))
  const order = [...new Set([...keys, ...fileOnly].map((k) => section(k.key)))]
  const out = [
    '# Configuration',
    '',
    `<!-- Generated from services/hub/config.ts by \`${COMMAND}\`; test/docs/config-doc.test.ts checks it. Edit the schema, not this file. -->`,
    '',
    'One zod schema (`services/hub/config.ts`), parsed once at start, read from three sources;',
    'later ones win:',
    '',
    '1. a JSON config file: `--config <file>`, or `./homefacts.config.json` when it exists;',
    '2. environment variables, `HOMEFACTS_<KEY>`;',
    '3. flags, `--<key>` (a boolean flag alone means `true`: `--shop-enabled`).',
    '',
    'Every key that holds one value has a variable and a flag; the lists are set in the config file.',
    'A bad value stops the hub with one message that names each key, where its value came from and',
    'what is expected, for example `HOMEFACTS_MQTT_PORT=one homefacts start --http-port 70000`:',
    '',
    '```',
    invalidConfigExample(),
    '```',
    '',
    'A key the schema does not know is refused too (`http: unknown key "http.prot" (from config file',
    'homefacts.config.json)`), and a port in use is reported with the flag that changes it:',
    '`homefacts: port 1883 on 0.0.0.0 is already in use (mqtt.port); choose another port with --mqtt-port or HOMEFACTS_MQTT_PORT`.',
    '',
    'An example config file, with the sections that have no flags:',
    '',
    '```json',
    pretty(EXAMPLE),
    '```'
  ]
  for (const name of order) {
    const own = keys.filter((k) => section(k.key) === name)
    const ownFileOnly = fileOnly.filter((k) => section(k.key) === name)
    const field = name ? (HubConfig.shape as Record<string, z.ZodType>)[name] : undefined
    const prose = SECTIONS[name] ?? (field ? field.description ?? unwrap(field).inner.description : undefined)
    out.push('', name ? `## \`${name}\`` : '## Top-level keys', '')
    if (prose) out.push(prose, '')
    if (own.length > 0) out.push(...keyTable(own))
    if (own.length > 0 && ownFileOnly.length > 0) out.push('')
    if (ownFileOnly.length > 0) out.push(...fileOnlyTable(ownFileOnly))
  }
  return out.join('\n') + '\n'
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CONFIG_DOC, configDoc())
  process.stdout.write(`wrote ${CONFIG_DOC}\n`)
}
