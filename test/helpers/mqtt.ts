import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt'

/** A message as a test sees it on the wire. */
export interface WireMessage {
  topic: string
  payload: string
  qos: number
  retain: boolean
}

/** Connects and resolves once CONNACK arrives; rejects on the first error (e.g. bad credentials). */
export async function connect (url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', (err) => {
      client.end(true)
      reject(err)
    })
  })
  return client
}

/** Records every message a client receives, and lets a test wait for the ones it expects. */
export class Inbox {
  readonly messages: WireMessage[] = []
  #waiters: { test: (m: WireMessage) => boolean, count: number, resolve: (m: WireMessage[]) => void }[] = []

  constructor (client: MqttClient) {
    client.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => {
      this.messages.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain })
      this.#check()
    })
  }

  #check (): void {
    this.#waiters = this.#waiters.filter((w) => {
      const hits = this.messages.filter(w.test)
      if (hits.length < w.count) return true
      w.resolve(hits.slice(0, w.count))
      return false
    })
  }

  on (topic: string): WireMessage[] {
    return this.messages.filter((m) => m.topic === topic)
  }

  /** Waits until `count` messages match (default: on the topic), or fails after `ms`. */
  wait (match: string | ((m: WireMessage) => boolean), count = 1, ms = 5000): Promise<WireMessage[]> {
    const test = typeof match === 'string' ? (m: WireMessage) => m.topic === match : match
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${count} message(s) on ${typeof match === 'string' ? match : 'predicate'}; got ${JSON.stringify(this.messages.map((m) => m.topic))}`)), ms)
      this.#waiters.push({ test, count, resolve: (m) => { clearTimeout(timer); resolve(m) } })
      this.#check()
    })
  }
}

/** Subscribes and returns the SUBACK codes as sent, refusals included (mqtt.js rejects on any refusal). */
export function subscribeCodes (client: MqttClient, filters: string[], qos: 0 | 1 | 2 = 1): Promise<number[]> {
  return new Promise((resolve, reject) => {
    client.subscribe(filters, { qos }, (err, _granted, packet) => {
      const codes = (packet as { granted?: number[] } | undefined)?.granted
      if (codes) resolve(codes)
      else reject(err ?? new Error('no SUBACK'))
    })
  })
}

/** What a PUBACK said: its reason code (0 on MQTT 3.1.1) and, on MQTT 5, its reason string. */
export interface Ack {
  reasonCode: number
  reasonString?: string
}

/** Publishes at QoS 1 and resolves with the PUBACK's reason code and string, refusals included (mqtt.js rejects on a refusal). */
export function publishAck (client: MqttClient, topic: string, payload: string, opts: { retain?: boolean } = {}): Promise<Ack> {
  return new Promise((resolve, reject) => {
    client.publish(topic, payload, { qos: 1, ...opts }, (err, packet) => {
      const ack = packet as { cmd?: string, reasonCode?: number, properties?: { reasonString?: string } } | undefined
      if (ack?.cmd === 'puback') return resolve({ reasonCode: ack.reasonCode ?? 0, ...(ack.properties?.reasonString ? { reasonString: ack.properties.reasonString } : {}) })
      if (err) return reject(err)
      resolve({ reasonCode: 0 })
    })
  })
}

/**
 * Follows `$SYS/<brokerId>/disconnect/clients` (as an admin): `gone(id)` resolves once the broker
 * has closed that client's connection, which may be well after the client sent DISCONNECT. A
 * publish that meets the closing connection is delivered to it (and may be acknowledged by it),
 * not queued for the session's next one.
 */
export async function watchDisconnects (url: string, admin: IClientOptions): Promise<{ client: MqttClient, gone: (clientId: string) => Promise<void> }> {
  const client = await connect(url, admin)
  const inbox = new Inbox(client)
  await client.subscribeAsync('$SYS/+/disconnect/clients', { qos: 0 })
  const seen = new Map<string, number>()
  return {
    client,
    gone: async (clientId) => {
      const n = (seen.get(clientId) ?? 0) + 1
      seen.set(clientId, n)
      await inbox.wait((m) => m.payload === clientId, n, 10_000)
    }
  }
}

/**
 * Connects with an inbox that listens from the start. A resumed session's queued messages follow
 * CONNACK at once, often in the same read: an inbox made after `connect()` resolves misses them.
 */
export async function connectInbox (url: string, opts: IClientOptions = {}): Promise<{ client: MqttClient, inbox: Inbox }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
  const inbox = new Inbox(client)
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', (err) => {
      client.end(true)
      reject(err)
    })
  })
  return { client, inbox }
}

/** The next PUBLISH on `topic`, with its properties. */
export function nextPublish (client: MqttClient, topic: string): Promise<IPublishPacket> {
  return new Promise((resolve) => client.on('message', (t: string, _payload: Buffer, packet: IPublishPacket) => { if (t === topic) resolve(packet) }))
}

/** Resolves once `seconds` of Message Expiry have passed for a message published before the call. */
export function pastExpiry (seconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 100))
}
