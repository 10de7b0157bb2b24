import { describe, expect, it } from 'vitest'
import AsyncMemory from 'aedes-persistence/asyncPersistence.js'
import type { AedesOptions } from 'aedes'
import { connect, Inbox } from '../helpers/mqtt.ts'
import mqttPacket from 'mqtt-packet'
import { rawConnect } from '../helpers/raw-mqtt.ts'
import { gate, resume, drop, startAedes } from './plain-aedes.ts'

type Persistence = NonNullable<AedesOptions['persistence']>

/**
 * patches/aedes+2.0.0-beta.1+001+publish-order.patch: messages reach subscribers in the order
 * they were published, and none is dropped, whatever order the store and the hooks answer in.
 */
describe('publish order (patched aedes)', () => {
  it('does not let a publish overtake one that waits for the store, which every subscriber would then drop', async () => {
    const stored = gate()
    const reached = gate()
    class SlowRetained extends AsyncMemory {
      override async storeRetained (packet: Parameters<AsyncMemory['storeRetained']>[0]): Promise<void> {
        if (packet.topic === 'o/a') {
          reached.open()
          await stored.wait
        }
        return super.storeRetained(packet)
      }
    }
    const overtaker = gate()
    const a = await startAedes({
      persistence: new SlowRetained() as unknown as Persistence,
      authorizePublish: (_client, packet, done) => {
        done(null)
        // Once o/b is published (or held back), the retained write of o/a is let through.
        if (packet.topic === 'o/b') setImmediate(overtaker.open)
      }
    })
    const sub = await connect(a.url)
    const inbox = new Inbox(sub)
    await sub.subscribeAsync('o/#', { qos: 0 })
    const first = await connect(a.url)
    const second = await connect(a.url)
    first.publish('o/a', 'a', { qos: 0, retain: true })
    await reached.wait
    second.publish('o/b', 'b', { qos: 0 })
    await overtaker.wait
    stored.open()
    await second.publishAsync('o/z', 'sentinel', { qos: 0 })
    await inbox.wait('o/z')
    expect(inbox.messages.map((m) => m.topic)).toStrictEqual(['o/a', 'o/b', 'o/z'])
    await Promise.all([sub.endAsync(), first.endAsync(), second.endAsync()])
  })

  it('publishes a client\'s QoS 2 message before the QoS 0 one it sent after it (moscajs/aedes#994)', async () => {
    const a = await startAedes()
    // A raw subscriber: mqtt.js hands a QoS 2 message over only at PUBREL, after a later QoS 0 one.
    const sub = await rawConnect(a.url, { cmd: 'connect', protocolVersion: 4, clientId: 'sub', clean: true, keepalive: 0 })
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'o/#', qos: 2 }] })
    await sub.next((p) => p.cmd === 'suback')
    const pub = await rawConnect(a.url, { cmd: 'connect', protocolVersion: 4, clientId: 'pub', clean: true, keepalive: 0 })
    // One write: the QoS 2 one waits for the store, the QoS 0 one for nothing.
    pub.socket.write(Buffer.concat([
      mqttPacket.generate({ cmd: 'publish', topic: 'o/1', payload: Buffer.from('1'), qos: 2, messageId: 1, retain: false, dup: false }),
      mqttPacket.generate({ cmd: 'publish', topic: 'o/2', payload: Buffer.from('2'), qos: 0, retain: false, dup: false })
    ]))
    await sub.next((p) => p.topic === 'o/1')
    await sub.next((p) => p.topic === 'o/2')
    expect(sub.publishes()).toStrictEqual(['o/1@2', 'o/2@0'])
    sub.socket.destroy()
    pub.socket.destroy()
  })

  it('writes messages to a persistent session in the order they were delivered, when the store updates them out of order', async () => {
    const first = gate()
    const secondReached = gate()
    class SlowUpdate extends AsyncMemory {
      override async outgoingUpdate (client: Parameters<AsyncMemory['outgoingUpdate']>[0], packet: Parameters<AsyncMemory['outgoingUpdate']>[1]): Promise<void> {
        if (packet.topic === 'd/1') await first.wait
        if (packet.topic === 'd/2') setImmediate(secondReached.open)
        return super.outgoingUpdate(client, packet)
      }
    }
    const a = await startAedes({ persistence: new SlowUpdate() as unknown as Persistence })
    const { client: sub, inbox } = await resume(a.url, { clientId: 'keeper', clean: false })
    await sub.subscribeAsync('d/#', { qos: 1 })
    const pub = await connect(a.url)
    // Not awaited: d/1's PUBACK follows its delivery, which waits for the store.
    pub.publish('d/1', '1', { qos: 1 })
    pub.publish('d/2', '2', { qos: 1 })
    await secondReached.wait
    first.open()
    await inbox.wait('d/1')
    await inbox.wait('d/2')
    expect(inbox.messages.map((m) => m.topic)).toStrictEqual(['d/1', 'd/2'])
    await Promise.all([sub.endAsync(), pub.endAsync()])
  })

  it('sends a resumed session\'s queue after its CONNACK and before any message published meanwhile [MQTT-4.4.0-1]', async () => {
    const streamed = gate()
    const live = gate()
    let holding = false
    class SlowQueue extends AsyncMemory {
      override async outgoingUpdate (client: Parameters<AsyncMemory['outgoingUpdate']>[0], packet: Parameters<AsyncMemory['outgoingUpdate']>[1]): Promise<void> {
        // Once q/live is on its way to the client (written, or held back), the queue is let through.
        if (packet.topic === 'q/live') setImmediate(live.open)
        return super.outgoingUpdate(client, packet)
      }

      override outgoingStream (client: Parameters<AsyncMemory['outgoingStream']>[0]): ReturnType<AsyncMemory['outgoingStream']> {
        if (!holding) return super.outgoingStream(client)
        // The queue as it was; it reaches the connect only once `live` has been published.
        const queue = super.outgoingStream(client)
        return (async function * () {
          await streamed.wait
          yield * queue
        })() as unknown as ReturnType<AsyncMemory['outgoingStream']>
      }
    }
    const a = await startAedes({ persistence: new SlowQueue() as unknown as Persistence })
    const session = { protocolVersion: 5 as const, clientId: 'away', clean: false, properties: { sessionExpiryInterval: 600 } }
    const { client: first } = await resume(a.url, session)
    await first.subscribeAsync('q/#', { qos: 1 })
    await drop(a.broker, first)
    const pub = await connect(a.url)
    await pub.publishAsync('q/queued', 'while away', { qos: 1 })
    holding = true
    const raw = await rawConnect(a.url, { cmd: 'connect', protocolVersion: 5, clientId: 'away', clean: false, keepalive: 0, properties: { sessionExpiryInterval: 600 } })
    pub.publish('q/live', 'now', { qos: 1 })
    await live.wait
    streamed.open()
    await raw.next((p) => p.topic === 'q/live')
    expect(raw.received.map((p) => p.topic ?? p.cmd)).toStrictEqual(['connack', 'q/queued', 'q/live'])
    raw.socket.destroy()
    await pub.endAsync()
  })
})
