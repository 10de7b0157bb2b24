import { EventEmitter } from 'node:events'
import mqtt, { type MqttClient } from 'mqtt'
import pRetry from 'p-retry'
import type { Logger } from 'pino'
import { Codes, HomefactsError } from '#contract'
import { waitAtMost } from './clock.ts'
import { HA_STATUS_TOPIC } from './discovery.ts'
import type { DeviceStore } from './store.ts'

/** Reconnect backoff: the first delay, doubled on each failed attempt up to `maxMs`. */
export interface Backoff {
  minMs: number
  maxMs: number
}

const DEFAULT_BACKOFF: Backoff = Object.freeze({ minMs: 1000, maxMs: 30_000 })

/** How a device reaches the broker. */
export interface BrokerOptions {
  url: string
  username?: string | undefined
  password?: string | undefined
  backoff?: Backoff
}

/** CONNACK codes that mean "these credentials are not let in": 4/5 (MQTT 3.1.1), 0x86/0x87 (MQTT 5). */
const REFUSED = new Set([4, 5, 0x86, 0x87])

export interface PublisherOptions extends BrokerOptions {
  clientId: string
  /** `home/<area>/<thing>/availability`: `online` while connected and the sensor works, the will says `offline`. */
  availabilityTopic: string
  /** Retained Home Assistant discovery, sent on connect and whenever Home Assistant comes online. */
  discovery?: { topic: string, payload: string } | undefined
  store: DeviceStore
  log: Logger
}

/**
 * A device's one MQTT connection. It sends what the store's outbox holds, oldest first, one
 * QoS 1 message at a time, and removes each only when the broker acknowledged it. So facts that
 * happen while the broker is away (or before a restart) arrive in order once it is back.
 *
 * Its will sets the availability `offline` (retained, QoS 1) when the device dies or loses the
 * network; it says `online` itself on every connect while the sensor is readable.
 *
 * It never gives up: an unreachable broker and refused credentials alike are retried with the
 * backoff, because both can be fixed while the device runs (the hub comes back, an admin runs
 * `homefacts users add`), and the facts in the outbox are only delivered by a device that is
 * still trying.
 */
export class DevicePublisher extends EventEmitter<{ drained: [], connect: [], refused: [HomefactsError] }> {
  readonly #opts: PublisherOptions
  readonly #backoff: Backoff
  readonly #stopping = new AbortController()
  #client: MqttClient | null = null
  #sensorOnline = false
  #draining = false
  #everConnected = false
  #refusal: HomefactsError | undefined
  /** Attempts are under way: a close is an attempt's failure, not a lost connection. */
  #connecting = false

  constructor (opts: PublisherOptions) {
    super()
    this.#opts = opts
    this.#backoff = opts.backoff ?? DEFAULT_BACKOFF
  }

  get connected (): boolean {
    return this.#client?.connected === true
  }

  /** Whether the broker ever accepted this device since `start()`. */
  get everConnected (): boolean {
    return this.#everConnected
  }

  /** Why the broker refused the last attempt (`HF_BAD_CREDENTIALS`); cleared by a connect. */
  get refusal (): HomefactsError | undefined {
    return this.#refusal
  }

  /** Connects; resolves at once, the publisher keeps retrying in the background. */
  start (): void {
    const { url, username, password, clientId, availabilityTopic, log, store } = this.#opts
    const client = mqtt.connect(url, {
      clientId,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      protocolVersion: 5,
      clean: true,
      // The attempts are made here, with p-retry's backoff, not on mqtt.js's fixed period.
      manualConnect: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      will: { topic: availabilityTopic, payload: Buffer.from('offline'), qos: 1, retain: true }
    })
    this.#client = client
    client.on('connect', () => {
      this.#everConnected = true
      this.#refusal = undefined
      log.info({ url, clientId }, 'connected to the broker')
      this.#onConnect(client).catch((err: unknown) => log.warn({ err }, 'could not announce the device after connecting'))
    })
    client.on('close', () => {
      if (this.#stopping.signal.aborted || this.#connecting) return
      log.info({ url, pending: store.pending() }, 'lost the broker; connecting again')
      this.#reconnect(client)
    })
    client.on('message', (topic, payload) => {
      if (topic === HA_STATUS_TOPIC && payload.toString() === 'online') void this.#publishDiscovery(client)
    })
    this.#reconnect(client)
  }

  /** Connects with backoff until the broker lets the device in. */
  #reconnect (client: MqttClient): void {
    const { url, username, log, store } = this.#opts
    this.#connecting = true
    pRetry(() => this.#attempt(client), {
      retries: Infinity,
      minTimeout: this.#backoff.minMs,
      maxTimeout: this.#backoff.maxMs,
      // A fleet that lost the broker together does not come back in lockstep.
      randomize: true,
      signal: this.#stopping.signal,
      onFailedAttempt: ({ error, attemptNumber }) => {
        if (!(error instanceof HomefactsError)) return void log.info({ url, attempt: attemptNumber, err: error.message, pending: store.pending() }, 'broker unreachable; facts wait in the outbox')
        this.#refusal = error
        log.error({ url, username, attempt: attemptNumber, pending: store.pending() }, `${error.message}; check --username/--password and "homefacts users list"; trying again`)
        this.emit('refused', error)
      }
    }).catch(() => {})
  }

  /** One connection attempt: resolves on CONNACK success, rejects with why it closed. */
  async #attempt (client: MqttClient): Promise<void> {
    const { username } = this.#opts
    let refused: HomefactsError | undefined
    const onError = (err: Error & { code?: number | string }): void => {
      if (typeof err.code !== 'number' || !REFUSED.has(err.code)) return
      refused = new HomefactsError(Codes.BAD_CREDENTIALS, username === undefined
        ? 'the broker refused the device credentials: no --username was given'
        : `the broker refused the device credentials for user "${username}"`)
    }
    client.on('error', onError)
    try {
      await new Promise<void>((resolve, reject) => {
        const done = (): void => { client.off('connect', onConnect); client.off('close', onClose) }
        const onConnect = (): void => { done(); this.#connecting = false; resolve() }
        const onClose = (): void => { done(); reject(refused ?? new Error('the connection closed before the broker accepted it')) }
        client.on('connect', onConnect)
        client.on('close', onClose)
        // The same stores: a QoS 1 publish still unacknowledged is sent again on the new connection.
        client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore })
      })
    } finally {
      client.off('error', onError)
    }
  }

  async #onConnect (client: MqttClient): Promise<void> {
    this.emit('connect')
    await this.#publishAvailability(client)
    if (this.#opts.discovery) {
      await client.subscribeAsync(HA_STATUS_TOPIC, { qos: 1 })
      await this.#publishDiscovery(client)
    }
    this.kick()
  }

  async #publishAvailability (client: MqttClient): Promise<void> {
    await client.publishAsync(this.#opts.availabilityTopic, this.#sensorOnline ? 'online' : 'offline', { qos: 1, retain: true })
  }

  async #publishDiscovery (client: MqttClient): Promise<void> {
    const d = this.#opts.discovery
    if (!d || !client.connected) return
    await client.publishAsync(d.topic, d.payload, { qos: 1, retain: true }).catch((err: unknown) => this.#opts.log.warn({ err }, 'discovery not published'))
  }

  /** The sensor (board) is readable, or not: availability follows while the process keeps running. */
  setSensorOnline (online: boolean): void {
    if (this.#sensorOnline === online) return
    this.#sensorOnline = online
    const client = this.#client
    if (client?.connected) this.#publishAvailability(client).catch(() => {})
  }

  /** Sends whatever the outbox holds. Safe to call any time; one drain runs at once. */
  kick (): void {
    if (this.#draining || this.#stopping.signal.aborted) return
    const client = this.#client
    if (!client?.connected) return
    this.#draining = true
    this.#drain(client).finally(() => {
      this.#draining = false
    }).catch(() => {})
  }

  async #drain (client: MqttClient): Promise<void> {
    const { store, log } = this.#opts
    for (;;) {
      if (this.#stopping.signal.aborted || !client.connected) return
      const row = store.peek()
      if (!row) {
        this.emit('drained')
        return
      }
      try {
        // mqtt.js keeps an unacknowledged QoS 1 publish across reconnects and resolves it when
        // the PUBACK finally comes, so one in flight at a time keeps the order.
        await client.publishAsync(row.topic, row.payload, { qos: 1, retain: row.retain })
      } catch (err) {
        if (this.#stopping.signal.aborted) return
        // Not acknowledged (e.g. the ledger failed): keep it and try again after a pause.
        log.warn({ err: (err as Error).message, topic: row.topic }, 'publish not acknowledged; will retry')
        await new Promise((resolve) => setTimeout(resolve, this.#backoff.minMs))
        continue
      }
      store.remove(row.n)
    }
  }

  /** Resolves once the outbox is empty (for tests and orderly shutdown). */
  async drained (): Promise<void> {
    while (this.#opts.store.pending() > 0) await new Promise<void>((resolve) => this.once('drained', resolve))
  }

  /** Says `offline` (a clean disconnect discards the will) and disconnects. Idempotent. */
  async stop (): Promise<void> {
    if (this.#stopping.signal.aborted) return
    this.#stopping.abort()
    const client = this.#client
    this.#client = null
    if (!client) return
    if (client.connected) await waitAtMost(client.publishAsync(this.#opts.availabilityTopic, 'offline', { qos: 1, retain: true }).catch(() => {}), 2000)
    await client.endAsync(true)
  }
}
