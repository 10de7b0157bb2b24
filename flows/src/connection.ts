import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { topicMatches, type Presence } from '#contract'
import { Mirror } from '#client'

export interface ConnectionOptions {
  /** `mqtt://host:port` of the hub (or any broker with the homefacts contract). */
  url: string
  username?: string
  password?: string
  clientId: string
  /**
   * A persistent session (MQTT 5, expiring after a day): facts published while Node-RED was down
   * are queued and delivered when it is back, and `fact in` decides them from the mirror.
   */
  persistent?: boolean
}

export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected'

type Handler = (topic: string, payload: Buffer) => void

/**
 * The one MQTT connection of a `homefacts-broker` config node, with the retained-state mirror
 * every homefacts node reads. Built here, opened by `start()`; the constructor does no I/O.
 */
export class BrokerConnection {
  readonly options: ConnectionOptions
  #connect: (url: string, opts: IClientOptions) => MqttClient
  #client: MqttClient | null = null
  #mirror: Mirror | null = null
  #handlers = new Map<string, Set<Handler>>()
  #statusListeners = new Set<(s: ConnectionStatus, err?: Error) => void>()
  #presence = new Map<string, Presence>()
  #ready: Promise<void> | null = null
  status: ConnectionStatus = 'disconnected'

  constructor (options: ConnectionOptions, connect: (url: string, opts: IClientOptions) => MqttClient = mqtt.connect) {
    this.options = options
    this.#connect = connect
  }

  get client (): MqttClient {
    if (!this.#client) throw new Error('the homefacts broker connection is not started')
    return this.#client
  }

  get mirror (): Mirror {
    if (!this.#mirror) throw new Error('the homefacts broker connection is not started')
    return this.#mirror
  }

  /** Every member whose presence the mirror holds a valid value for. */
  presence (): Record<string, Presence> {
    return Object.fromEntries(this.#presence)
  }

  onStatus (listener: (s: ConnectionStatus, err?: Error) => void): () => void {
    this.#statusListeners.add(listener)
    return () => { this.#statusListeners.delete(listener) }
  }

  /** Connects and starts the mirror; resolves once both are up (mqtt.js keeps reconnecting). */
  start (): Promise<void> {
    this.#ready ??= this.#start()
    return this.#ready
  }

  async #start (): Promise<void> {
    const { url, username, password, clientId, persistent = true } = this.options
    this.#setStatus('connecting')
    const client = this.#connect(url, {
      clientId,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      protocolVersion: 5,
      clean: !persistent,
      ...(persistent ? { properties: { sessionExpiryInterval: 86_400 } } : {}),
      reconnectPeriod: 2000
    })
    this.#client = client
    const mirror = new Mirror({ client })
    this.#mirror = mirror
    mirror.onChange((change) => {
      if (change.kind !== 'presence') return
      if (change.seen.status === 'value') this.#presence.set(change.member, change.seen.value)
      else this.#presence.delete(change.member)
    })
    client.on('message', (topic, payload) => {
      for (const [filter, handlers] of this.#handlers) {
        if (topicMatches(filter, topic)) for (const h of [...handlers]) h(topic, payload)
      }
    })
    client.on('connect', () => this.#setStatus('connected'))
    client.on('offline', () => this.#setStatus('disconnected'))
    client.on('error', (err) => this.#setStatus(client.connected ? 'connected' : 'disconnected', err))
    if (!client.connected) await new Promise<void>((resolve) => client.once('connect', () => resolve()))
    await mirror.start()
  }

  /** Subscribes `handler` to a topic filter (QoS 1); returns a function that removes it. */
  async subscribe (filter: string, handler: Handler): Promise<() => Promise<void>> {
    // The handler is in place before the first await: a persistent session delivers its queued
    // facts right after CONNACK, before any SUBSCRIBE is answered.
    let set = this.#handlers.get(filter)
    const fresh = !set
    if (!set) {
      set = new Set()
      this.#handlers.set(filter, set)
    }
    set.add(handler)
    if (fresh) {
      await this.start()
      const granted = await this.client.subscribeAsync(filter, { qos: 1 })
      if (granted.some((g) => g.qos >= 128)) {
        this.#handlers.delete(filter)
        throw new Error(`the broker refused the subscription to ${filter}`)
      }
    }
    return async () => {
      set.delete(handler)
      if (set.size === 0 && this.#handlers.get(filter) === set) {
        this.#handlers.delete(filter)
        if (this.#client?.connected) await this.#client.unsubscribeAsync(filter).catch(() => {})
      }
    }
  }

  /** Publishes one fact (QoS 1); rejects when the broker refuses it (an MQTT 5 PUBACK reason code). */
  async publish (topic: string, payload: string): Promise<void> {
    await this.start()
    await this.client.publishAsync(topic, payload, { qos: 1, retain: false })
  }

  async stop (): Promise<void> {
    const client = this.#client
    this.#client = null
    this.#handlers.clear()
    if (!client) return
    await this.#mirror?.stop().catch(() => {})
    await client.endAsync(true).catch(() => {})
    this.#setStatus('disconnected')
  }

  #setStatus (status: ConnectionStatus, err?: Error): void {
    this.status = status
    for (const l of [...this.#statusListeners]) l(status, err)
  }
}
