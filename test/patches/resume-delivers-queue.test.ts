import { describe, expect, it } from 'vitest'
import { connect, Inbox, nextPublish, pastExpiry } from '../helpers/mqtt.ts'
import { drop, resume, onEveryStore } from './plain-aedes.ts'

/**
 * patches/aedes+2.0.0-beta.1+010+resume-delivers-queue.patch: a session resumed with Clean Start 0
 * gets its queued messages even when it now ends with the connection [MQTT-3.1.2-5]; and the
 * session store keeps what a queued or retained MQTT 5 message carries.
 */
describe('resuming a session (patched aedes)', () => {
  onEveryStore((start) => {
    it('resumes a session with Clean Start 0 and no Session Expiry, with its queued messages, and ends it at that disconnect [MQTT-3.1.2-5]', async () => {
      const a = await start()
      const url = a.url
      const first = await connect(url, { protocolVersion: 5, clientId: 'resumer', clean: false, properties: { sessionExpiryInterval: 3600 } })
      await first.subscribeAsync('q/t', { qos: 1 })
      await drop(a.broker, first)
      const pub = await connect(url, { protocolVersion: 5 })
      await pub.publishAsync('q/t', 'queued', { qos: 1 })
      // No Session Expiry: the session ends when this connection does [MQTT-3.1.2-23].
      const second = await resume(url, { protocolVersion: 5, clientId: 'resumer', clean: false })
      expect(second.sessionPresent).toBe(true)
      expect(await second.inbox.wait('q/t')).toStrictEqual([{ topic: 'q/t', payload: 'queued', qos: 1, retain: false }])
      await drop(a.broker, second.client)
      const third = await resume(url, { protocolVersion: 5, clientId: 'resumer', clean: false })
      expect(third.sessionPresent).toBe(false)
      await Promise.all([pub.endAsync(), third.client.endAsync()])
    })

    it('keeps a queued message\'s MQTT 5 properties, and drops one whose Message Expiry passed while it was queued [MQTT-3.3.2-5]', async () => {
      const a = await start()
      const url = a.url
      const session = { protocolVersion: 5 as const, clientId: 'away', clean: false, properties: { sessionExpiryInterval: 3600 } }
      const first = await connect(url, session)
      await first.subscribeAsync('q/#', { qos: 1 })
      await drop(a.broker, first)
      const pub = await connect(url, { protocolVersion: 5 })
      const properties = { userProperties: { type: 'cup.emptied' }, contentType: 'application/json', payloadFormatIndicator: true, correlationData: Buffer.from('c1') }
      await pub.publishAsync('q/short', 'gone', { qos: 1, properties: { messageExpiryInterval: 1 } })
      await pub.publishAsync('q/long', 'kept', { qos: 1, properties: { ...properties, messageExpiryInterval: 3600 } })
      await pastExpiry(1)
      const second = await resume(url, session)
      const packet = await nextPublish(second.client, 'q/long')
      // The queue is sent in order: had the expired one been sent, it would have come first.
      expect(second.inbox.messages.map((m) => m.topic)).toStrictEqual(['q/long'])
      expect(packet.properties).toMatchObject(properties)
      // The interval left, not the one it was published with [MQTT-3.3.2-6].
      expect(packet.properties?.messageExpiryInterval).toBeLessThanOrEqual(3599)
      expect(packet.properties?.messageExpiryInterval).toBeGreaterThan(3590)
      await Promise.all([pub.endAsync(), second.client.endAsync()])
    })

    it('sends a retained message with its MQTT 5 properties, and not after its Message Expiry [MQTT-3.3.2-5]', async () => {
      const a = await start()
      const url = a.url
      const pub = await connect(url, { protocolVersion: 5 })
      await pub.publishAsync('r/short', 'gone', { qos: 1, retain: true, properties: { messageExpiryInterval: 1 } })
      await pub.publishAsync('r/long', 'kept', { qos: 1, retain: true, properties: { userProperties: { id: 'f1' }, contentType: 'text/plain', messageExpiryInterval: 3600 } })
      await pastExpiry(1)
      const sub = await connect(url, { protocolVersion: 5 })
      const got = nextPublish(sub, 'r/long')
      const inbox = new Inbox(sub)
      // Retained messages are sent filter by filter, in the SUBSCRIBE's order: an expired one sent would come first.
      await sub.subscribeAsync(['r/short', 'r/long'], { qos: 1 })
      await inbox.wait('r/long')
      expect(inbox.messages.map((m) => m.topic)).toStrictEqual(['r/long'])
      expect((await got).properties).toMatchObject({ userProperties: { id: 'f1' }, contentType: 'text/plain' })
      await Promise.all([pub.endAsync(), sub.endAsync()])
    })
  })
})
