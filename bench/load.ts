import type { Socket } from 'node:net'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { BenchCredentials } from './protocol.ts'

/** One message to publish, built before any timing starts. */
export interface Outgoing {
  topic: string
  payload: Buffer
  /** Retain this one (otherwise `publishWindowed`'s `retain` option decides). */
  retain?: boolean
}

/**
 * Connects an MQTT 3.1.1 client and resolves on CONNACK. TCP_NODELAY is set on the client
 * socket too, so a latency figure is the broker's, not Nagle's.
 */
export async function connect (url: string, clientId: string, creds: BenchCredentials | undefined, opts: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId, clean: true, reconnectPeriod: 0, connectTimeout: 20_000, keepalive: 120, ...(creds ?? {}), ...opts })
  ;(client.stream as Socket | undefined)?.setNoDelay?.(true)
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', (err) => { client.end(true); reject(new Error(`${clientId}: ${err.message}`)) })
    client.once('close', () => reject(new Error(`${clientId}: closed before CONNACK`)))
  })
  return client
}

export async function subscribe (client: MqttClient, filter: string, qos: 0 | 1 = 1): Promise<void> {
  const granted = await client.subscribeAsync(filter, { qos })
  if (granted[0]?.qos !== qos) throw new Error(`subscription to ${filter} refused: ${JSON.stringify(granted)}`)
}

/**
 * Publishes every message at QoS 0 as fast as the socket takes them, `chunk` at a time (each
 * write waiting on a full socket holds a listener), and resolves when the last one is written.
 */
export async function publishAll (client: MqttClient, msgs: readonly Outgoing[], chunk = 500): Promise<void> {
  for (let i = 0; i < msgs.length; i += chunk) {
    await Promise.all(msgs.slice(i, i + chunk).map((m) => new Promise<void>((resolve, reject) => {
      client.publish(m.topic, m.payload, { qos: 0 }, (err) => { if (err) reject(err); else resolve() })
    })))
  }
}

/**
 * Counts messages until `count` have come or none came for `quietMs`; resolves with how many
 * came and when the last one did (`nowNs()`). For QoS 0, where a broker may drop some.
 */
export function receiveUntilQuiet (client: MqttClient, count: number, quietMs: number): Promise<{ got: number, lastAt: bigint }> {
  return new Promise((resolve) => {
    let got = 0
    let lastAt = nowNs()
    const timer = setTimeout(() => finish(), quietMs)
    const finish = (): void => { clearTimeout(timer); client.off('message', onMessage); resolve({ got, lastAt }) }
    const onMessage = (): void => {
      got++
      lastAt = nowNs()
      if (got === count) return finish()
      timer.refresh()
    }
    client.on('message', onMessage)
  })
}

/**
 * Publishes every message at QoS 1 with at most `window` unacknowledged at a time, and
 * resolves when the last PUBACK arrives. `onSend` is called just before each publish.
 */
export function publishWindowed (client: MqttClient, msgs: readonly Outgoing[], window: number, opts: { retain?: boolean, onSend?: (i: number) => void } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0
    let acked = 0
    let inflight = 0
    let failed = false
    const pump = (): void => {
      while (!failed && inflight < window && next < msgs.length) {
        const i = next++
        const m = msgs[i]!
        inflight++
        opts.onSend?.(i)
        client.publish(m.topic, m.payload, { qos: 1, retain: m.retain ?? opts.retain ?? false }, (err) => {
          if (err) { failed = true; return reject(err) }
          inflight--
          if (++acked === msgs.length) resolve()
          else pump()
        })
      }
    }
    if (msgs.length === 0) resolve()
    else pump()
  })
}

/** Resolves when `count` messages passed `accept`, or rejects after `ms`. */
export function receive (client: MqttClient, count: number, ms: number, accept: (topic: string, payload: Buffer, retain: boolean) => boolean = () => true): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0
    const onMessage = (topic: string, payload: Buffer, packet: { retain: boolean }): void => {
      if (!accept(topic, payload, packet.retain)) return
      if (++got === count) { finish(); resolve() }
    }
    const timer = setTimeout(() => { finish(); reject(new Error(`received ${got} of ${count} messages in ${ms} ms`)) }, ms)
    const finish = (): void => { clearTimeout(timer); client.off('message', onMessage) }
    client.on('message', onMessage)
  })
}

/** Ends clients (without waiting for their in-flight state), a batch at a time. */
export async function endAll (clients: MqttClient[], batch = 200): Promise<void> {
  for (let i = 0; i < clients.length; i += batch) {
    await Promise.all(clients.slice(i, i + batch).map((c) => c.endAsync(true)))
  }
}

export const nowNs = (): bigint => process.hrtime.bigint()
export const msSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6
