import { describe, expect, it } from 'vitest'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { rawConnect, type RawPacket } from '../helpers/raw-mqtt.ts'
import { onEveryStore } from './plain-aedes.ts'

const qos2 = (messageId: number, payload: string): RawPacket => ({ cmd: 'publish', topic: 'q2/t', payload: Buffer.from(payload), qos: 2, messageId, retain: false, dup: false })

/**
 * patches/aedes+2.0.0-beta.1+012+clean-start-discards-incoming.patch: a Clean Start discards the
 * QoS 2 PUBLISHes the last session received and never saw released [MQTT-3.1.2-4], so a new one
 * on a packet id they used is delivered, not taken for a resend [MQTT-4.3.3-2].
 */
describe('Clean Start and QoS 2 state (patched aedes)', () => {
  onEveryStore((start) => {
    for (const [version, clean] of [[5, 'Clean Start 1'], [4, 'Clean Session 1']] as const) {
      it(`delivers a QoS 2 message on packet id 7 from a client that reconnects with ${clean} after a PUBREC it never released (MQTT ${version === 5 ? '5' : '3.1.1'})`, async () => {
        const a = await start()
        const sub = await connect(a.url)
        const inbox = new Inbox(sub)
        await sub.subscribeAsync('q2/t', { qos: 2 })
        const first = await rawConnect(a.url, { cmd: 'connect', protocolVersion: version, clientId: 'q2', clean: version === 5 ? false : true, keepalive: 0, ...(version === 5 ? { properties: { sessionExpiryInterval: 600 } } : {}) })
        first.send(qos2(7, 'first'))
        await first.next((p) => p.cmd === 'pubrec' && p.messageId === 7)
        // Cut off before PUBREL.
        const gone = new Promise<void>((resolve) => a.broker.once('clientDisconnect', () => resolve()))
        first.socket.destroy()
        await gone
        const again = await rawConnect(a.url, { cmd: 'connect', protocolVersion: version, clientId: 'q2', clean: true, keepalive: 0 })
        again.send(qos2(7, 'second'))
        await again.next((p) => p.cmd === 'pubrec' && p.messageId === 7)
        again.send({ cmd: 'pubrel', messageId: 7 })
        await again.next((p) => p.cmd === 'pubcomp' && p.messageId === 7)
        await inbox.wait((m) => m.payload === 'second')
        expect(inbox.messages.map((m) => m.payload)).toStrictEqual(['first', 'second'])
        again.socket.destroy()
        await sub.endAsync()
      })
    }

    it('still takes a resent QoS 2 PUBLISH of a resumed session for a resend [MQTT-4.3.3-2]', async () => {
      const a = await start()
      const sub = await connect(a.url)
      const inbox = new Inbox(sub)
      await sub.subscribeAsync('q2/t', { qos: 2 })
      const session = { cmd: 'connect', protocolVersion: 5, clientId: 'q2', clean: false, keepalive: 0, properties: { sessionExpiryInterval: 600 } }
      const first = await rawConnect(a.url, session)
      first.send(qos2(7, 'once'))
      await first.next((p) => p.cmd === 'pubrec')
      const gone = new Promise<void>((resolve) => a.broker.once('clientDisconnect', () => resolve()))
      first.socket.destroy()
      await gone
      const again = await rawConnect(a.url, session)
      again.send({ ...qos2(7, 'once'), dup: true })
      await again.next((p) => p.cmd === 'pubrec')
      again.send({ cmd: 'pubrel', messageId: 7 })
      await again.next((p) => p.cmd === 'pubcomp')
      await sub.publishAsync('q2/t', 'sentinel', { qos: 2 })
      await inbox.wait((m) => m.payload === 'sentinel')
      expect(inbox.messages.map((m) => m.payload)).toStrictEqual(['once', 'sentinel'])
      again.socket.destroy()
      await sub.endAsync()
    })
  })
})
