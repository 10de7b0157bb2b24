import { EventEmitter } from 'node:events'
import mqtt, { type MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import { HA_STATUS_TOPIC } from './discovery.ts'
import type { DeviceStore } from './store.ts'

/** How a device reaches the broker. */
export interface BrokerOptions {
  url: string
  username?: string | undefined
  password?: string | undefined
  /** Reconnect backoff: the first delay, doubled on each failed attempt up to `maxMs`. */
  backoff?: { minMs: number, maxMs: number }
}

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
 */
export class DevicePublisher extends EventEmitter<{ drained: [], connect: [] }> {
  readonly #opts: PublisherOptions
  #client: MqttClient | null = null
  #sensorOnline = false
  #draining = false
  #stopped = false
  #delay: number

  constructor (opts: PublisherOptions) {
    super()
    this.#opts = opts
    this.#delay = opts.backoff?.minMs ?? 1000
  }

  get connected (): boolean {
    return this.#client?.connected === true
  }

  /** Connects; resolves at once, the client keeps retrying in the background. */
  start (): void {
    const { url, username, password, clientId, availabilityTopic, log } = this.#opts
    const backoff = this.#opts.backoff ?? { minMs: 1000, maxMs: 30_000 }
    const client = mqtt.connect(url, {
      clientId,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      protocolVersion: 5,
      clean: true,
      reconnectPeriod: backoff.minMs,
      connectTimeout: 10_000,
      // No will delay: aedes 2 leaks the delay property into the will PUBLISH.
      will: { topic: availabilityTopic, payload: Buffer.from('offline'), qos: 1, retain: true }
    })
    this.#client = client
    client.on('connect', () => {
      this.#delay = backoff.minMs
      client.options.reconnectPeriod = backoff.minMs
      log.info({ url, clientId }, 'connected to the broker')
      this.#onConnect(client).catch((err: unknown) => log.warn({ err }, 'could not announce the device after connecting'))
    })
    client.on('close', () => {
      if (this.#stopped) return
      // mqtt.js reads reconnectPeriod before each attempt; doubling it gives the backoff, and
      // jitter keeps a fleet that lost the broker together from returning in lockstep.
      client.options.reconnectPeriod = Math.round(this.#delay * (0.8 + Math.random() * 0.4))
      log.info({ url, retryInMs: client.options.reconnectPeriod, pending: this.#opts.store.pending() }, 'broker unreachable; facts wait in the outbox')
      this.#delay = Math.min(backoff.maxMs, this.#delay * 2)
    })
    client.on('error', (err: Error & { code?: number }) => {
      // A refused CONNECT (rc 4/5, or 0x86/0x87 in v5) will not fix itself: say so clearly.
      if (err.code === 4 || err.code === 5 || err.code === 0x86 || err.code === 0x87) log.error({ url, username }, 'the broker refused the device credentials; check --username/--password and "homefacts users list"')
      else log.debug({ err: err.message }, 'mqtt error')
    })
    client.on('message', (topic, payload) => {
      if (topic === HA_STATUS_TOPIC && payload.toString() === 'online') void this.#publishDiscovery(client)
    })
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
        await new Promise((resolve) => setTimeout(resolve, this.#opts.backoff?.minMs ?? 1000))
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
