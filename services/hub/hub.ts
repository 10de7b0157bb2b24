import { dirname, join, resolve } from 'node:path'
import { mkdirSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import { existsSync, readFileSync } from 'node:fs'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import mqtt, { type MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import { HUB_STATE_TOPIC, presenceTopic } from '#contract'
import { LiveHousehold } from '../household/index.ts'
import { createBroker, Ledger, MqttTokens, UserStore, type HomefactsBroker, type LedgerEntry } from '../../broker/index.ts'
import { registerLedgerApi } from '../../broker/api.ts'
import { canSubscribe } from '../../broker/acl.ts'
import { closeServer, listen, portOf } from '../../broker/listeners.ts'
import { DEFAULT_CONFIG_FILE, loadConfig, type ConfigSources, type HubConfig } from './config.ts'
import { createLogger } from './log.ts'
import { Secrets, type Credentials } from './secrets.ts'
import { registerProxy, type ProxyTargets } from './proxy.ts'
import { NodeRed } from './node-red.ts'
import type { LedgerFact, PhonesHub } from '../phones/index.ts'
import type { Role } from '../../broker/index.ts'
import { SERVICES, type Account, type Service, type ServiceContext, type ServiceDefinition } from './services.ts'
import { Estate, parseEstate } from '../../estate/index.ts'
import { Children } from './children.ts'
import { dataDirError, opening } from './data-errors.ts'

/** Files the hub keeps in `dataDir`. */
export const dataFiles = (dataDir: string) => ({
  users: join(dataDir, 'users.json'),
  secrets: join(dataDir, 'secrets.json'),
  ledger: join(dataDir, 'ledger.sqlite'),
  sessions: join(dataDir, 'sessions.sqlite')
})

export interface StartInfo {
  /** Set by the first start that succeeds: the admin account it created. */
  firstRunAdmin?: Credentials
}

export interface HubOptions {
  log?: Logger
  /** Services to run in the hub's process, and then no child processes; defaults to the registry's (`services.ts`). */
  services?: readonly Pick<ServiceDefinition, 'name' | 'create'>[]
  /** Where the config came from, to read the household section again when the file changes. */
  configSources?: ConfigSources
}

/** The hub in one process: broker, ledger, HTTP API with MQTT over WebSocket, and services. Started by `start()`. */
export class Hub {
  readonly config: HubConfig
  readonly log: Logger
  readonly users: UserStore
  readonly ledger: Ledger
  readonly secrets: Secrets
  readonly broker: HomefactsBroker
  readonly http: FastifyInstance
  /** Node-RED, a child process. */
  readonly nodeRed: NodeRed
  /** Orders, Customers and Notifications, each a child process, when `shop.enabled`. */
  readonly children: Children
  /** The household as it changes while the hub runs: the config section and every member user. */
  readonly household: LiveHousehold
  #serviceDefs: readonly Pick<ServiceDefinition, 'name' | 'create'>[]
  #services: { name: string, service: Service }[] = []
  #client: MqttClient | null = null
  #started = false
  /** Set once `start()` has finished: the hub served. */
  #running = false
  #proxies: ProxyTargets
  readonly tokens: MqttTokens
  /** This house's link to the other houses, when the config has an `estate` section. */
  readonly estate: Estate | null
  #handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null
  #https: HttpsServer | null = null

  constructor (config: HubConfig, opts: HubOptions = {}) {
    this.config = config
    this.log = opts.log ?? createLogger(config)
    const files = dataFiles(resolve(config.dataDir))
    this.users = new UserStore(files.users, (err) => this.log.error({ code: err.code, issues: err.issues }, `${err.message}; keeping the users loaded before`))
    this.ledger = new Ledger(files.ledger, (err) => this.log.error({ err }, 'the ledger\'s checkpoint thread failed; checkpoints run on the broker\'s thread'))
    this.secrets = new Secrets(files.secrets)
    this.tokens = new MqttTokens(() => Buffer.from(this.#secret('mqtt-token-secret'), 'base64url'), config.phones.tokenMinutes * 60_000)
    this.estate = config.estate
      ? new Estate(parseEstate(config.estate), {
        ledger: this.ledger,
        log: this.log.child({ part: 'estate' }),
        house: () => this.#secret('estate-house-id'),
        credentials: () => this.credentials('homefacts-estate', { role: 'estate' }),
        mqttUrl: () => this.#mqttUrl
      })
      : null
    this.broker = createBroker(config, { log: this.log.child({ part: 'broker' }), users: this.users, ledger: this.ledger, sessionsFile: files.sessions, tokens: this.tokens, ...(this.estate ? { claimAuthority: this.estate.authority } : {}) })
    // Request lines are info-level; the HTTP child logs warnings and errors only.
    this.http = Fastify({
      loggerInstance: this.log.child({ part: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
      forceCloseConnections: true,
      // One app on two servers: plain HTTP, and HTTPS for phones with the same routes.
      serverFactory: (handler) => {
        this.#handler = handler
        return createHttpServer(handler)
      }
    })
    this.#serviceDefs = opts.services ?? SERVICES.filter((d) => d.runs === 'hub')
    const sources = opts.configSources
    // The file `loadConfig` reads, or would read once it exists: one created while the hub runs counts too.
    const configFile = sources ? resolve(sources.file ?? DEFAULT_CONFIG_FILE) : undefined
    this.household = new LiveHousehold({
      initial: config.household,
      read: () => loadConfig({ ...sources, ...(configFile ? { file: configFile } : {}) }).household,
      users: () => this.users.list(),
      configFile,
      log: this.log.child({ part: 'household' })
    })
    this.http.get('/api/health', async () => ({ status: 'ok', ledgerOffset: this.ledger.lastOffset(), ...(this.estate ? { estate: this.estate.health() } : {}) }))
    registerLedgerApi(this.http, { ledger: this.ledger, users: this.users })
    this.#proxies = registerProxy(this.http, { users: this.users, secret: () => this.#secret('shop-proxy-secret') })
    // A phone fetches the hub's CA over plain HTTP once, to trust it (docs/https.md, "Trusting the hub on a phone").
    this.http.get('/ca.crt', async (_req, reply) => {
      const file = join(resolve(config.dataDir), 'certs', 'ca.crt')
      if (!config.https.enabled || config.https.cert || !existsSync(file)) return reply.code(404).send({ error: 'HF_NOT_FOUND', message: 'this hub serves no certificate of its own CA (https.enabled is off, or https.cert names your own certificate)' })
      const { caDownload } = await import('./certs.ts')
      const ca = caDownload(dirname(file))
      return reply.headers(ca.headers).send(ca.body)
    })
    this.nodeRed = new NodeRed({
      config,
      log: this.log.child({ part: 'node-red' }),
      usersFile: files.users,
      credentials: () => this.credentials('nodered', { role: 'nodered', members: config.nodeRed.claimAs, keepPassword: true }),
      credentialSecret: () => this.#secret('node-red-credential-secret'),
      members: () => this.household.current.members
    })
    this.children = new Children({
      names: config.shop.enabled && !opts.services ? SERVICES.filter((d) => d.runs === 'child').map((d) => d.name) : [],
      config,
      log: this.log.child({ part: 'children' }),
      credentials: (name) => this.credentials(name, { role: name as Role }),
      proxySecret: () => this.#secret('shop-proxy-secret')
    })
    this.children.on('started', (name: string, _pid: number, url?: string) => {
      if (url) this.#proxies.set(`/api/${name}`, url)
    })
  }

  /** The broker's plain MQTT listener, which the hub's own clients and services use. */
  get #mqttUrl (): string {
    return `mqtt://127.0.0.1:${this.broker.ports.mqtt}`
  }

  get urls (): { mqtt: string, http: string, ws: string, https?: string, mqtts?: string } {
    const http = `http://127.0.0.1:${portOf(this.http.server)}`
    const https = this.#https?.listening ? { https: `https://127.0.0.1:${portOf(this.#https)}` } : {}
    const mqtts = this.broker.ports.mqtts ? { mqtts: `mqtts://127.0.0.1:${this.broker.ports.mqtts}` } : {}
    return { mqtt: this.#mqttUrl, http, ws: `${http.replace('http', 'ws')}${this.config.ws.path}`, ...https, ...mqtts }
  }

  /** Credentials for a hub-managed account, created (and kept in secrets.json) on first use. */
  async credentials (name: string, account: Account = {}): Promise<Credentials> {
    const { role = 'service', member, members, keepPassword } = account
    const known = this.secrets.get(name)
    const user = known && this.users.get(known.username)
    if (known && user && user.role === role && user.member === member && String(user.members ?? '') === String(members ?? '')) return known
    const password = await this.users.add({ username: name, role, ...(member ? { member } : {}), ...(members ? { members: [...members] } : {}), ...(keepPassword && known ? { password: known.password } : {}) })
    const creds = { username: name, password }
    this.secrets.set(name, creds)
    return creds
  }

  async start (): Promise<StartInfo> {
    if (this.#started) return {}
    this.#started = true
    const info: StartInfo = {}
    const dataDir = resolve(this.config.dataDir)
    const files = dataFiles(dataDir)
    let hubCredentials: Promise<Credentials>
    try {
      mkdirSync(dataDir, { recursive: true })
      this.users.load()
      // Needed once MQTT listens: a first start hashes it on the thread pool while the ledger and the sessions open.
      hubCredentials = this.credentials('homefacts-hub', { role: 'admin' })
      hubCredentials.catch(() => {})
    } catch (err) {
      throw dataDirError(err, dataDir) ?? err
    }
    await opening(dataDir, { path: files.ledger, lost: 'the ledger starts again at offset 1 (facts already delivered stay delivered; GET /api/facts no longer replays them)' }, () => this.ledger.open())
    try {
      await opening(dataDir, { path: files.sessions, lost: 'persistent sessions, their queued messages and retained state are lost: clients subscribe again and devices publish their state again' }, () => this.broker.start())
      const hubCreds = await hubCredentials
      this.household.start()
      await this.#retainDefaultPresence(this.household.current)
      // Before the services hear of a new member: its responder finds a presence.
      this.household.onChange((next) => this.#retainDefaultPresence(next))
      await this.#connectHubClient(hubCreds)
      const ctx: ServiceContext = {
        config: this.config,
        mqttUrl: this.#mqttUrl,
        credentials: (name, account) => this.credentials(name, account),
        household: this.household,
        proxySecret: this.#secret('shop-proxy-secret'),
        hub: this.#phonesHub(),
        log: this.log
      }
      // Started before HTTP listens: a service's routes answer from the moment it does.
      for (const def of this.#serviceDefs) {
        const service = def.create({ ...ctx, log: this.log.child({ service: def.name }) })
        if (service.routes) await this.http.register(service.routes)
        await service.start()
        this.#services.push({ name: def.name, service })
        if (service.url) this.#proxies.set(`/api/${def.name}`, service.url)
      }
      await this.http.ready()
      await listen(this.http.server, this.config.http.port, this.config.http.host, 'http.port')
      this.broker.attachWebSocket(this.http.server)
      await this.#listenHttps()
      await this.children.start(this.#mqttUrl)
      // Linked in the background: the house runs alone until (and whenever) the estate is not there.
      await this.estate?.start()
      // Only a start that succeeds creates the admin: a failed one leaves no account whose password nobody saw.
      if (!this.users.list().some((u) => u.role === 'admin' && u.username !== 'homefacts-hub')) {
        info.firstRunAdmin = await this.credentials('admin', { role: 'admin' })
      }
      // The hub serves MQTT whatever Node-RED does: a Node-RED that cannot start is logged, not fatal.
      await this.nodeRed.start(this.#mqttUrl).catch((err: unknown) => this.log.error({ err }, `Node-RED not started: ${(err as Error).message}`))
      this.#running = true
    } catch (err) {
      await this.stop()
      throw dataDirError(err, dataDir) ?? err
    }
    return info
  }

  /** HTTPS with the same app and WSS, and MQTT over TLS, with the config's certificate or the hub's own (`homefacts certs`). */
  async #listenHttps (): Promise<void> {
    const { https, mqtts } = this.config
    if (!https.enabled && !mqtts.enabled) return
    const creds = await this.#tlsCredentials()
    if (mqtts.enabled) await this.broker.listenTls(creds)
    if (!https.enabled) return
    const server = createHttpsServer(creds, this.#handler!)
    this.#https = server
    await listen(server, https.port, https.host, 'https.port')
    this.broker.attachWebSocket(server)
    this.log.info({ url: `https://${https.host === '0.0.0.0' ? '<this host>' : https.host}:${portOf(server)}/` }, 'web app on HTTPS')
  }

  /** The certificate HTTPS and MQTT over TLS serve: the config's, or the one the hub makes from its own CA. */
  async #tlsCredentials (): Promise<{ cert: Buffer, key: Buffer }> {
    const { https } = this.config
    if (https.cert && https.key) return { cert: readFileSync(https.cert), key: readFileSync(https.key) }
    // Loaded only when needed: node-forge is a large module for a start that never makes a certificate.
    const { ensureCertificates } = await import('./certs.ts')
    const files = await ensureCertificates(join(resolve(this.config.dataDir), 'certs'), { log: this.log.child({ part: 'certs' }) })
    return { cert: readFileSync(files.cert), key: readFileSync(files.key) }
  }

  /** What the phones' web app needs of the hub: its users, MQTT tokens, and the ledger as the broker's ACL lets a user read it. */
  #phonesHub (): PhonesHub {
    const readable = (who: { username: string }, e: LedgerEntry | null | undefined): LedgerFact | null => {
      const user = this.users.get(who.username)
      return e && user && canSubscribe(user, '', e.topic) ? { offset: e.offset, topic: e.topic, receivedAt: e.receivedAt, fact: e.fact } : null
    }
    return {
      authenticate: (username, password) => this.users.authenticate(username, password),
      user: (username) => this.users.get(username),
      mqttToken: (username) => this.tokens.issue(username),
      wsPath: this.config.ws.path,
      story: (who, id) => {
        const story = this.ledger.story(id)
        const fact = readable(who, story?.fact)
        if (!story || !fact) return undefined
        return { fact, steps: story.steps.map((s) => readable(who, s)).filter((s) => s !== null), resolution: readable(who, story.resolution) }
      }
    }
  }

  /** Presence is never silence: each member's default presence is retained unless one is, so a responder always finds one. */
  async #retainDefaultPresence (household: { members: readonly { name: string, presence: string }[] }): Promise<void> {
    for (const member of household.members) {
      if (await this.broker.retainIfAbsent(presenceTopic(member.name), member.presence)) {
        this.log.info({ member: member.name, presence: member.presence }, 'retained the default presence')
      }
    }
  }

  /** The hub's own MQTT connection; aedes keeps its will (`offline`) in the session store, to publish if the hub dies. */
  async #connectHubClient (creds: Credentials): Promise<void> {
    const client = mqtt.connect(this.#mqttUrl, {
      clientId: 'homefacts-hub',
      username: creds.username,
      password: creds.password,
      protocolVersion: 5,
      clean: true,
      reconnectPeriod: 1000,
      will: { topic: HUB_STATE_TOPIC, payload: Buffer.from('offline'), qos: 1, retain: true }
    })
    this.#client = client
    // Say `online` on every (re)connect: after a dropped connection the will has said `offline`.
    const online = (): void => {
      client.publish(HUB_STATE_TOPIC, 'online', { qos: 1, retain: true }, (err) => {
        if (err) this.log.warn({ err }, 'could not publish hub state')
      })
    }
    client.on('connect', online)
    client.on('error', (err) => this.log.warn({ err }, 'hub MQTT connection error'))
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve())
      client.once('error', reject)
    })
  }

  /** A random key kept in secrets.json under `name`, made on first use, so what it signs outlives a restart. */
  #secret (name: string): string {
    const known = this.secrets.get(name)
    if (known) return known.password
    const password = randomBytes(24).toString('base64url')
    this.secrets.set(name, { username: name, password })
    return password
  }

  /** Stops services, says `offline`, closes HTTP, broker and ledger. Safe to call twice. */
  async stop (): Promise<void> {
    await this.estate?.stop().catch((err: unknown) => this.log.error({ err }, 'estate failed to stop'))
    this.household.stop()
    await this.nodeRed.stop()
    await this.children.stop()
    for (const { name, service } of this.#services.reverse()) {
      await service.stop().catch((err: unknown) => this.log.error({ err, service: name }, 'service failed to stop'))
    }
    this.#services = []
    const client = this.#client
    this.#client = null
    if (client?.connected) await client.publishAsync(HUB_STATE_TOPIC, 'offline', { qos: 1, retain: true }).catch(() => {})
    await client?.endAsync()
    // Follow streams are long-lived responses; end them rather than wait for their clients.
    this.http.server.closeAllConnections()
    this.#https?.closeAllConnections()
    // Fastify's close does not close a server the hub listens on itself: the process would stay up, answering 503.
    await Promise.all([this.http.close(), closeServer(this.http.server), closeServer(this.#https ?? undefined)])
    this.#https = null
    await this.broker.stop()
    await this.ledger.close()
    // Only a hub that started says it stopped: a failed start has already said why.
    if (this.#running) this.log.info('hub stopped')
    this.#started = false
    this.#running = false
  }
}

export function createHub (config: HubConfig, opts?: HubOptions): Hub {
  return new Hub(config, opts)
}
