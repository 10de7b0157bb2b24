import type { Server, Socket } from 'node:net'
import type { Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import { Aedes, type Client } from 'aedes'
import stats from 'aedes-stats'
import type { Logger } from 'pino'
import { Claim, ThingState } from '#contract'
import type { WebSocketServer } from 'ws'
import type { BrokerConfig } from './config.ts'
import type { Ledger } from './ledger.ts'
import type { UserStore } from './users.ts'
import type { Principals } from './principals.ts'
import { authenticate } from './hooks/authenticate.ts'
import { authorizePublish } from './hooks/authorize-publish.ts'
import { authorizeSubscribe } from './hooks/authorize-subscribe.ts'
import { attachWebSocket, closeServer, listenTcp, listenTls, portOf } from './listeners.ts'
import { SessionStore } from './session-store.ts'
import { ClaimBook, type ClaimAuthority } from './claims.ts'
import { noMqttNumberCache } from './mqtt-numbers.ts'
import type { MqttTokens } from './tokens.ts'
import { LoginThrottle } from './throttle.ts'
import { boundLiveQueue, ConnectionsPerUser, PublishRate } from './limits.ts'

export { BrokerConfig } from './config.ts'
export { Ledger, type LedgerEntry, type LedgerQuery } from './ledger.ts'
export { UserStore, Role, type Principal, type User } from './users.ts'
export type { DeadLetter, Refusal } from './deadletter.ts'
export type { ClaimAuthority } from './claims.ts'
export { MqttTokens } from './tokens.ts'
export { LoginThrottle } from './throttle.ts'

export interface BrokerDeps {
  log: Logger
  users: UserStore
  ledger: Ledger
  /** The SQLite file of sessions, retained messages, queued messages and wills. */
  sessionsFile: string
  /** Short-lived MQTT passwords the web app logs in with. */
  tokens?: MqttTokens
  /** Settles claims on another house's things (the estate). */
  claimAuthority?: ClaimAuthority
}

type BrokerPacket = { topic: string, payload: Buffer, qos: 0 | 1, retain: boolean }

/** The embedded broker: aedes with the homefacts hooks, durable in SQLite. Built, not started. */
export class HomefactsBroker {
  readonly config: BrokerConfig
  readonly counters = { accepted: 0, deadlettered: 0, slowDisconnects: 0, droppedQos0: 0 }
  #deps: BrokerDeps
  #aedes: Aedes | null = null
  #store: SessionStore
  #tcp: Server | undefined
  #anonymous: Server | undefined
  #tls: Server | undefined
  #wss: WebSocketServer[] = []
  #anonymousSockets = new WeakSet<object>()
  #statsTimer: NodeJS.Timeout | undefined
  #claims = new ClaimBook()
  /** Subjects whose claim is cleared once their new state is published (after it, so no one sees the claim go first). */
  #staleClaims = new Set<string>()

  constructor (config: BrokerConfig, deps: BrokerDeps) {
    this.config = config
    this.#deps = deps
    this.#store = new SessionStore(deps.sessionsFile)
  }

  get aedes (): Aedes {
    if (!this.#aedes) throw new Error('broker is not started')
    return this.#aedes
  }

  /** The bound MQTT ports (useful when configured as 0). */
  get ports (): { mqtt: number, anonymous?: number, mqtts?: number } {
    return { mqtt: this.#tcp ? portOf(this.#tcp) : 0, ...(this.#anonymous ? { anonymous: portOf(this.#anonymous) } : {}), ...(this.#tls ? { mqtts: portOf(this.#tls) } : {}) }
  }

  /** Opens the MQTT TLS listener (`mqtts`) with the hub's certificate; called after `start()`. */
  async listenTls (creds: { cert: Buffer, key: Buffer }): Promise<void> {
    this.#tls = await listenTls(this.aedes.handle, creds, this.config.mqtts.port, this.config.mqtts.host, 'mqtts.port')
  }

  async start (): Promise<void> {
    const { config } = this
    const { log, users, ledger } = this.#deps
    noMqttNumberCache()
    const principals: Principals = new WeakMap()
    const aedes = new Aedes({
      persistence: this.#store,
      heartbeatInterval: config.heartbeatSeconds * 1000,
      // A frame may hold a payload of limits.maxPayloadBytes with a topic and properties of up to
      // 64 KiB; a bigger one is refused as it arrives, before it is buffered (DISCONNECT 0x95).
      maximumPacketSize: config.limits.maxPayloadBytes + 65_536,
      // Told to MQTT 5 clients in CONNACK, and enforced (DISCONNECT 0x93).
      receiveMaximum: config.limits.receiveMaximum,
      drainTimeout: config.drainTimeoutMs,
      maxClientsIdLength: 128,
      // One broker instance: replicas of a service share facts with `$share/<group>/<filter>`.
      sharedSubscriptions: true,
      authenticate: authenticate({
        users,
        principals,
        isAnonymous: (client: Client) => this.#anonymousSockets.has(client.conn),
        anonymousRole: config.anonymous.role,
        ...(this.#deps.tokens ? { tokens: this.#deps.tokens } : {}),
        throttle: new LoginThrottle({ maxFailures: config.limits.loginFailures, windowSeconds: config.limits.loginWindowSeconds }),
        connections: new ConnectionsPerUser(config.limits.connectionsPerUser),
        log
      }),
      authorizePublish: authorizePublish({
        principals,
        ledger,
        log,
        claims: this.#claims,
        counters: this.counters,
        rate: new PublishRate(config.limits),
        maxPayloadBytes: config.limits.maxPayloadBytes,
        publish: (packet) => this.#publish(packet),
        claimStale: (subject) => this.#staleClaims.add(subject),
        ...(this.#deps.claimAuthority ? { claimAuthority: this.#deps.claimAuthority } : {})
      }),
      authorizeSubscribe: authorizeSubscribe({ principals, log }),
      authorizeForward: boundLiveQueue(config.limits, log, this.counters)
    })
    // A store write that failed outside a publish (a session wipe, a will): logged, never a crash.
    ;(aedes as unknown as NodeJS.EventEmitter).on('error', (err: Error) => log.error({ err: err.message }, 'broker error'))
    aedes.on('clientError', (client, err) => {
      const size = (err as Error & { size?: number }).size
      if (size !== undefined) log.warn({ clientId: client.id, bytes: size, limit: config.limits.maxPayloadBytes }, 'packet too large (limits.maxPayloadBytes): connection closed')
      else log.debug({ clientId: client.id, err: err.message }, 'client error')
    })
    aedes.on('connectionError', (client, err) => log.debug({ clientId: client?.id, err: err.message }, 'connection error'))
    aedes.on('publish', (packet) => {
      if (this.#staleClaims.size === 0 || !packet.retain || !packet.topic.endsWith('/state')) return
      const subject = packet.topic.slice(0, -'/state'.length)
      if (this.#staleClaims.delete(subject)) this.#clearClaim(subject)
    })
    await aedes.listen()
    await aedes.restoreSharedSubscriptions(this.#store.sharedSubscriptions())
    this.#aedes = aedes
    await this.#loadClaims()
    stats(aedes, { interval: config.statsSeconds * 1000 })
    this.#statsTimer = setInterval(() => this.#publishStats(), config.statsSeconds * 1000)
    this.#statsTimer.unref()
    this.#tcp = await listenTcp(aedes.handle, config.mqtt.port, config.mqtt.host, 'mqtt.port')
    if (config.anonymous.port !== undefined) {
      this.#anonymous = await listenTcp(aedes.handle, config.anonymous.port, config.anonymous.host, 'anonymous.port', (s: Socket) => this.#anonymousSockets.add(s))
      log.warn({ port: portOf(this.#anonymous), role: config.anonymous.role }, 'anonymous listener is on: clients connect without credentials')
    }
    log.info({ mqtt: portOf(this.#tcp), brokerId: aedes.id }, 'broker listening')
  }

  /** Rebuilds the claim book from the retained states and claims, clearing claims whose state moved on meanwhile. */
  async #loadClaims (): Promise<void> {
    this.#claims = new ClaimBook()
    const states = new Map<string, ThingState>()
    const claims = new Map<string, Claim>()
    for await (const packet of this.#store.createRetainedStreamCombi(['home/+/+/state', 'home/+/+/claim']) as AsyncIterable<{ topic: string, payload: Buffer }>) {
      const subject = packet.topic.slice(0, packet.topic.lastIndexOf('/'))
      const value = safeJson(packet.payload)
      if (packet.topic.endsWith('/state')) {
        const r = ThingState.safeParse(value)
        if (r.success) states.set(subject, r.data)
      } else {
        const r = Claim.safeParse(value)
        if (r.success) claims.set(subject, r.data)
      }
    }
    for (const subject of new Set([...states.keys(), ...claims.keys()])) this.#claims.load(subject, states.get(subject), claims.get(subject))
    for (const subject of this.#claims.stale()) {
      this.#claims.publishClaim({ username: 'homefacts-hub', role: 'admin' }, subject, null)
      await this.#publish({ topic: `${subject}/claim`, payload: Buffer.alloc(0), qos: 1, retain: true })
      this.#deps.log.info({ subject }, 'claim cleared at start: the state had moved past the claimed fact')
    }
  }

  /** The state moved past the claimed fact: the broker clears the claim. */
  #clearClaim (subject: string): void {
    this.#publish({ topic: `${subject}/claim`, payload: Buffer.alloc(0), qos: 1, retain: true })
      .then(() => this.#deps.log.info({ subject }, 'claim cleared: the state moved past the claimed fact'), (err: unknown) => this.#deps.log.error({ err, subject }, 'could not clear a resolved claim; it is cleared at the next start'))
  }

  /** Publishes as the broker itself; resolves once it is stored (retained and queued for persistent sessions). */
  #publish (packet: BrokerPacket): Promise<void> {
    const aedes = this.#aedes
    if (!aedes) return Promise.reject(new Error('broker is not started'))
    return new Promise((resolve, reject) => aedes.publish({ cmd: 'publish', dup: false, ...packet }, (err) => err ? reject(err) : resolve()))
  }

  /**
   * Retains `payload` on `topic` unless something is retained there already: read from the
   * session store itself, so "nothing retained" is a fact here, not a silence.
   */
  async retainIfAbsent (topic: string, payload: string): Promise<boolean> {
    if (await this.retained(topic) !== null) return false
    await this.#publish({ topic, payload: Buffer.from(payload), qos: 1, retain: true })
    return true
  }

  /** The payload retained on `topic` now, read from the session store; `null` when none is. */
  async retained (topic: string): Promise<Buffer | null> {
    for await (const packet of this.#store.createRetainedStream(topic) as AsyncIterable<{ payload: Buffer }>) return packet.payload
    return null
  }

  /** Serves MQTT over WebSocket on one of the hub's HTTP servers (plain HTTP, and HTTPS for WSS). */
  attachWebSocket (http: HttpServer | HttpsServer): void {
    if (!this.config.ws.enabled) return
    this.#wss.push(attachWebSocket(http, this.config.ws.path, this.aedes.handle))
  }

  #publishStats (): void {
    const aedes = this.#aedes
    if (!aedes || !this.#deps.ledger.isOpen) return
    const base = `$SYS/${aedes.id}/homefacts`
    const values: Record<string, number> = {
      'facts/accepted': this.counters.accepted,
      'facts/deadlettered': this.counters.deadlettered,
      'limits/slow-disconnects': this.counters.slowDisconnects,
      'limits/dropped-qos0': this.counters.droppedQos0,
      'ledger/offset': this.#deps.ledger.lastOffset()
    }
    for (const [k, v] of Object.entries(values)) {
      aedes.publish({ cmd: 'publish', topic: `${base}/${k}`, payload: Buffer.from(String(v)), qos: 0, retain: false, dup: false }, () => {})
    }
  }

  /**
   * Closes the listeners and every client; aedes calls back once the wills and publishes under way
   * are written (patches/README.md, close-waits-for-publishes), then the store closes. Idempotent.
   */
  async stop (): Promise<void> {
    clearInterval(this.#statsTimer)
    for (const wss of this.#wss) {
      for (const c of wss.clients) c.terminate()
      wss.close()
    }
    this.#wss = []
    const aedes = this.#aedes
    this.#aedes = null
    const closing = [closeServer(this.#tcp), closeServer(this.#anonymous), closeServer(this.#tls)]
    this.#tls = undefined
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()))
    await Promise.all(closing)
    await this.#store.destroy()
  }
}

function safeJson (payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString())
  } catch {
    return null
  }
}

export function createBroker (config: BrokerConfig, deps: BrokerDeps): HomefactsBroker {
  return new HomefactsBroker(config, deps)
}
