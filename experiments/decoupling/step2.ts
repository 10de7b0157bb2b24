import { setTimeout as sleep } from 'node:timers/promises'
import mqtt from 'mqtt'
import { checkPublish } from '#contract'
import { WebhookChannel } from '../../services/notifications/index.ts'
import { isOrderFact, noticeFor } from '../../services/notifications/core.ts'
import { contactFrom } from './step1.ts'

export interface Notifications2Options { mqttUrl: string, mqttUser: string, mqttPassword: string, customersUrl: string, webhookUrl: string, user: string, password: string }

/**
 * Step 2's Notifications: a persistent MQTT session on the order facts (so it catches up after a
 * restart), but it still asks Customers over HTTP for each order. While Customers stays down it
 * keeps the fact unacknowledged and tries again every second, so the facts behind it wait too.
 * Processed ids live in memory only: a restart may repeat a send (the Idempotency-Key tells).
 */
export async function runNotifications2 (opts: Notifications2Options): Promise<void> {
  const channel = new WebhookChannel(opts.webhookUrl, 2000)
  const done = new Set<string>()
  const client = mqtt.connect(opts.mqttUrl, {
    clientId: 'step2-notifications', clean: false, protocolVersion: 5,
    properties: { sessionExpiryInterval: 0xFFFFFFFF }, reconnectPeriod: 500,
    username: opts.mqttUser, password: opts.mqttPassword
  })
  client.handleMessage = (packet, callback) => {
    void (async () => {
      const checked = checkPublish({ topic: packet.topic, payload: packet.payload, retain: packet.retain })
      if (checked.kind !== 'fact' || !isOrderFact(checked.fact) || done.has(checked.fact.id)) return
      const fact = checked.fact
      for (;;) {
        try {
          await channel.send(noticeFor(fact, await contactFrom(opts, fact.data.customerId)))
          break
        } catch {
          await sleep(1000)
        }
      }
      done.add(fact.id)
    })().then(() => callback(), () => callback())
  }
  client.once('connect', (ack) => {
    if (!ack.sessionPresent) client.subscribe('shop/orders/+/fact/+', { qos: 1 })
    process.stdout.write('notifications2 ready\n')
  })
}
