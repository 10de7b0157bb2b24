import { describe, expect, it } from 'vitest'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { drop, resume, onEveryStore, startAedes } from './plain-aedes.ts'

/** patches/aedes+2.0.0-beta.1+007+client-maximum-packet-size.patch: the client's Maximum Packet Size is kept [MQTT-3.1.2-24], [MQTT-3.1.2-25]. */
describe('the client\'s Maximum Packet Size (patched aedes)', () => {
  it('does not send a PUBLISH larger than the client\'s Maximum Packet Size, at any QoS [MQTT-3.1.2-24]', async () => {
    const a = await startAedes()
    const url = a.url
    const sub = await connect(url, { protocolVersion: 5, properties: { maximumPacketSize: 100 } })
    const inbox = new Inbox(sub)
    const discarded: string[] = []
    a.broker.on('packetDiscarded', (packet) => discarded.push(`${packet.topic}@${packet.qos}`))
    await sub.subscribeAsync('big/#', { qos: 1 })
    const pub = await connect(url, { protocolVersion: 5 })
    await pub.publishAsync('big/0', 'x'.repeat(200), { qos: 0 })
    await pub.publishAsync('big/1', 'x'.repeat(200), { qos: 1 })
    await pub.publishAsync('big/sentinel', 'small', { qos: 1 })
    await inbox.wait('big/sentinel')
    expect(inbox.messages).toStrictEqual([{ topic: 'big/sentinel', payload: 'small', qos: 1, retain: false }])
    expect(discarded).toStrictEqual(['big/0@0', 'big/1@1'])
    await Promise.all([sub.endAsync(), pub.endAsync()])
  })

  onEveryStore((start) => {
    it('discards a queued QoS 1 message too large for the resumed client and counts it as delivered, so it never comes later [MQTT-3.1.2-25]', async () => {
      const a = await start()
      const url = a.url
      const session = { protocolVersion: 5 as const, clientId: 'small', clean: false, properties: { sessionExpiryInterval: 3600, maximumPacketSize: 100 } }
      const first = await connect(url, session)
      await first.subscribeAsync('q/#', { qos: 1 })
      await drop(a.broker, first)
      const pub = await connect(url, { protocolVersion: 5 })
      await pub.publishAsync('q/big', 'x'.repeat(200), { qos: 1 })
      await pub.publishAsync('q/small', 'fits', { qos: 1 })
      const second = await resume(url, session)
      expect(await second.inbox.wait('q/small')).toStrictEqual([{ topic: 'q/small', payload: 'fits', qos: 1, retain: false }])
      await second.client.endAsync()
      // With no limit now, a message still in flight would be sent again [MQTT-4.4.0-1].
      const third = await resume(url, { ...session, properties: { sessionExpiryInterval: 3600 } })
      await pub.publishAsync('q/sentinel', 'last', { qos: 1 })
      await third.inbox.wait('q/sentinel')
      expect(second.inbox.messages.map((m) => m.topic)).toStrictEqual(['q/small'])
      expect(third.inbox.messages.map((m) => m.topic)).toStrictEqual(['q/sentinel'])
      await Promise.all([pub.endAsync(), third.client.endAsync()])
    })
  })
})
