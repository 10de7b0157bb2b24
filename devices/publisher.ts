import { EventEmitter } from 'node:events'
import mqtt, { type MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import { Codes, HomefactsError } from '#contract'
import { DEFAULT_BACKOFF, retryDelay, type Backoff } from './backoff.ts'
import { HA_STATUS_TOPIC } from './discovery.ts'
import type { DeviceStore } from './store.ts'

/** How a device reaches the broker. */
export interface BrokerOptions {
  url: string
  username?: string | undefined
  password?: string | undefined
  /** Reconnect backoff: the first delay, doubled on each failed attempt up to `maxMs`. */
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
  #client: MqttClient | null = null
  #sensorOnline = false
  #draining = false
  #stopped = false
  /** Failed attempts in a row since the last connect. */
  #failures = 0
  /** The current attempt has already been counted (a refusal is followed by a close). */
  #attemptFailed = false
  #everConnected = false
  #refusal: HomefactsError | undefined

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

  /** Connects; resolves at once, the client keeps retrying in the background. */
  start (): void {
    const { url, username, password, clientId, availabilityTopic, log, store } = this.#opts
    const client = mqtt.connect(url, {
      clientId,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      protocolVersion: 5,
      clean: true,
      reconnectPeriod: this.#backoff.minMs,
      // Without it mqtt.js stops for good after a refused CONNACK (issue 9).
      reconnectOnConnackError: true,
      connectTimeout: 10_000,
      // No will delay: aedes 2 leaks the delay property into the will PUBLISH.
      will: { topic: availabilityTopic, payload: Buffer.from('offline'), qos: 1, retain: true }
    })
    this.#client = client
    client.on('connect', () => {
      this.#failures = 0
      this.#attemptFailed = false
      this.#everConnected = true
      this.#refusal = undefined
      log.info({ url, clientId }, 'connected to the broker')
      this.#onConnect(client).catch((err: unknown) => log.warn({ err }, 'could not announce the device after connecting'))
    })
    client.on('reconnect', () => { this.#attemptFailed = false })
    // Prepended: mqtt.js arms its reconnect timer in its own 'close' listener, with the
    // reconnectPeriod of that moment, so the next delay must be set before it runs.
    client.prependListener('close', () => {
      if (this.#stopped || this.#attemptFailed) return
      const retryInMs = this.#failed(client)
      log.info({ url, retryInMs, pending: store.pending() }, 'broker unreachable; facts wait in the outbox')
    })
    client.on('error', (err: Error & { code?: number | string }) => {
      if (typeof err.code !== 'number' || !REFUSED.has(err.code)) return void log.debug({ err: err.message }, 'mqtt error')
      // The timer for a refused CONNACK is armed right after this event, before the close.
      const retryInMs = this.#failed(client)
      const refusal = new HomefactsError(Codes.BAD_CREDENTIALS, username === undefined
        ? 'the broker refused the device credentials: no --username was given'
        : `the broker refused the device credentials for user "${username}"`)
      this.#refusal = refusal
      log.error({ url, username, reasonCode: err.code, retryInMs, pending: store.pending() }, `${refusal.message}; check --username/--password and "homefacts users list"; trying again`)
      this.emit('refused', refusal)
    })
    client.on('message', (topic, payload) => {
      if (topic === HA_STATUS_TOPIC && payload.toString() === 'online') void this.#publishDiscovery(client)
    })
  }

  /** Counts a failed attempt once and sets the wait before the next one. */
  #failed (client: MqttClient): number {
    this.#attemptFailed = true
    this.#failures++
    client.options.reconnectPeriod = retryDelay(this.#failures, this.#backoff)
    return client.options.reconnectPeriod
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
    if (this.#draining || this.#stopped) return
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
      if (this.#stopped || !client.connected) return
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
        if (this.#stopped) return
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
    if (this.#stopped) return
    this.#stopped = true
    const client = this.#client
    this.#client = null
    if (!client) return
    if (client.connected) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        client.publishAsync(this.#opts.availabilityTopic, 'offline', { qos: 1, retain: true }).catch(() => {}),
        new Promise((resolve) => { timer = setTimeout(resolve, 2000) })
      ])
      clearTimeout(timer)
    }
    await client.endAsync(true)
  }
}
