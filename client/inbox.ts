import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt'

/**
 * The connect options of a persistent inbox: a session the broker keeps while the subscriber is
 * away, queuing its QoS 1 messages. MQTT 5 ends a session at disconnect unless it is given an
 * expiry [MQTT-3.1.2-23]; the largest one never expires [MQTT-3.1.2-22].
 */
export const INBOX_SESSION = {
  clean: false,
  protocolVersion: 5,
  properties: { sessionExpiryInterval: 0xFFFF_FFFF }
} as const satisfies IClientOptions

export interface InboxOptions {
  filters: readonly string[]
  /** Handles one message; the broker gets its PUBACK only once this resolves. */
  handle: (packet: IPublishPacket) => Promise<void>
  /**
   * `handle` failed: the message stays unacknowledged, and the broker sends it again on the
   * next connect [MQTT-4.4.0-1].
   */
  onUnhandled: (err: unknown, packet: IPublishPacket) => void
}

/**
 * Makes a client just made with `INBOX_SESSION` a persistent inbox (call it before the CONNACK
 * comes: the queued messages of a resumed session arrive right after it). Each message is
 * acknowledged only after `handle` has committed its effect, so a crash means a redelivery, and
 * messages are handled one at a time, in the order they came (mqtt.js reads the next packet once
 * the last one is handled). Subscribes to `filters` on the first connect (a session made before
 * a filter was added gets it) and on any later one that found no session. Resolves once
 * subscribed; rejects when the first attempt fails.
 */
export function openInbox (client: MqttClient, opts: InboxOptions): Promise<void> {
  client.handleMessage = (packet, callback) => {
    opts.handle(packet).then(() => callback(), (err: unknown) => {
      opts.onUnhandled(err, packet)
      callback(err as Error)
    })
  }
  let first = true
  return new Promise((resolve, reject) => {
    client.on('connect', (ack) => {
      if (!first && ack.sessionPresent) return
      const subscribing = first
      first = false
      client.subscribe([...opts.filters], { qos: 1 }, (err) => {
        if (subscribing) err ? reject(err) : resolve()
        else if (err) client.emit('error', err)
      })
    })
    client.once('error', (err) => { if (first) reject(err) })
  })
}
