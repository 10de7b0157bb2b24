import { describe, expect, it } from 'vitest'
import type { IClientOptions } from 'mqtt'
import { connect, subscribeCodes } from '../helpers/mqtt.ts'
import { rawConnect } from '../helpers/raw-mqtt.ts'
import { drop, onEveryStore, resume } from './plain-aedes.ts'

/**
 * patches/aedes+2.0.0-beta.1+015+shared-subscriptions.patch: Shared Subscriptions for a broker
 * that runs as one instance (option `sharedSubscriptions`).
 */
describe('shared subscriptions (patched aedes) [MQTT-4.8.2]', () => {
  onEveryStore((start) => {
    it('gives each message to one member of the group, in turn, and every message to a plain subscriber; no retained ones', async () => {
      const { url } = await start({ sharedSubscriptions: true })
      const a = await resume(url, { protocolVersion: 5, clientId: 'a' })
      const b = await resume(url, { protocolVersion: 4, clientId: 'b' })
      const all = await resume(url, { protocolVersion: 5, clientId: 'all' })
      const pub = await connect(url, { protocolVersion: 5 })
      await pub.publishAsync('s/retained', 'old', { qos: 1, retain: true })
      expect(await subscribeCodes(a.client, ['$share/workers/s/#'])).toStrictEqual([1])
      expect(await subscribeCodes(b.client, ['$share/workers/s/#'])).toStrictEqual([1])
      await all.client.subscribeAsync('s/#', { qos: 1 })
      await all.inbox.wait('s/retained')
      for (let i = 0; i < 10; i++) await pub.publishAsync(`s/${i}`, String(i), { qos: 1 })
      await all.inbox.wait((m) => m.topic === 's/9')
      await expect.poll(() => a.inbox.messages.length + b.inbox.messages.length).toBe(10)
      const got = [...a.inbox.messages, ...b.inbox.messages].map((m) => m.payload).sort((x, y) => Number(x) - Number(y))
      expect(got).toStrictEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
      expect(a.inbox.messages).toHaveLength(5)
      expect(b.inbox.messages).toHaveLength(5)
      expect([...a.inbox.messages, ...b.inbox.messages].every((m) => m.qos === 1 && !m.retain)).toBe(true)
      // A member that leaves gets no more; the other gets them all.
      await a.client.unsubscribeAsync('$share/workers/s/#')
      for (let i = 10; i < 14; i++) await pub.publishAsync(`s/${i}`, String(i), { qos: 1 })
      await b.inbox.wait((m) => m.topic === 's/13')
      expect(b.inbox.messages.map((m) => m.topic).slice(5)).toStrictEqual(['s/10', 's/11', 's/12', 's/13'])
      expect(a.inbox.messages).toHaveLength(5)
      await Promise.all([a, b, all].map((c) => c.client.endAsync()).concat(pub.endAsync()))
    })

    it('queues a message for one of the group\'s persistent sessions when no member is connected', async () => {
      const broker = await start({ sharedSubscriptions: true })
      const url = broker.url
      const session = (clientId: string): IClientOptions => ({ protocolVersion: 5, clientId, clean: false, properties: { sessionExpiryInterval: 3600 } })
      for (const id of ['w1', 'w2']) {
        const w = await connect(url, session(id))
        await w.subscribeAsync('$share/workers/job/+', { qos: 1 })
        await drop(broker.broker, w)
      }
      const pub = await connect(url, { protocolVersion: 5 })
      for (let i = 0; i < 4; i++) await pub.publishAsync(`job/${i}`, String(i), { qos: 1 })
      const w1 = await resume(url, session('w1'))
      const w2 = await resume(url, session('w2'))
      expect(w1.sessionPresent && w2.sessionPresent).toBe(true)
      await expect.poll(() => w1.inbox.messages.length + w2.inbox.messages.length).toBe(4)
      expect([...w1.inbox.messages, ...w2.inbox.messages].map((m) => m.payload).sort()).toStrictEqual(['0', '1', '2', '3'])
      // Restored with their sessions, both are members again.
      for (let i = 4; i < 8; i++) await pub.publishAsync(`job/${i}`, String(i), { qos: 1 })
      await expect.poll(() => w1.inbox.messages.length + w2.inbox.messages.length).toBe(8)
      expect(w1.inbox.messages.length).toBeGreaterThan(0)
      expect(w2.inbox.messages.length).toBeGreaterThan(0)
      await Promise.all([w1.client.endAsync(), w2.client.endAsync(), pub.endAsync()])
    })

    it('refuses a share name with a wildcard, or no filter, with 0x8F; advertises shared subscriptions; without the option, 0x9E as before', async () => {
      const { url } = await start({ sharedSubscriptions: true })
      // mqtt.js checks filters itself: a raw client sends the bad ones.
      const raw = await rawConnect(url, { cmd: 'connect', protocolVersion: 5, clientId: 'raw', clean: true, keepalive: 0 })
      // Available is the default, so it is not sent [MQTT-3.2.2.3.15].
      const connack = await raw.next((p) => p.cmd === 'connack') as { properties?: { sharedSubscriptionAvailable?: boolean } }
      expect(connack.properties?.sharedSubscriptionAvailable).toBeUndefined()
      raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: ['$share/a+b/x', '$share/only', '$share/ok/x'].map((topic) => ({ topic, qos: 1 })) })
      expect((await raw.next((p) => p.cmd === 'suback')).granted).toStrictEqual([0x8F, 0x8F, 1])
      raw.socket.destroy()
      const { url: off } = await start()
      const plain = await rawConnect(off, { cmd: 'connect', protocolVersion: 5, clientId: 'raw', clean: true, keepalive: 0 })
      const refused = await plain.next((p) => p.cmd === 'connack') as { properties?: { sharedSubscriptionAvailable?: boolean } }
      expect(refused.properties?.sharedSubscriptionAvailable).toBe(false)
      plain.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/ok/x', qos: 1 }] })
      expect((await plain.next((p) => p.cmd === 'suback')).granted).toStrictEqual([0x9E])
      plain.socket.destroy()
    })
  })
})
