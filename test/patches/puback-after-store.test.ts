import { describe, expect, it } from 'vitest'
import AsyncMemory from 'aedes-persistence/asyncPersistence.js'
import type { AedesOptions } from 'aedes'
import type { IDisconnectPacket } from 'mqtt'
import { connect, publishAck } from '../helpers/mqtt.ts'
import { gate, startAedes } from './plain-aedes.ts'

type Persistence = NonNullable<AedesOptions['persistence']>

/**
 * patches/aedes+2.0.0-beta.1+002+puback-after-store.patch: a QoS 1 PUBACK is sent once the
 * message is stored (retained, and queued for every persistent session), never before; a publish
 * the broker could not keep is not acknowledged, so the client sends it again.
 */
describe('PUBACK after the store (patched aedes)', () => {
  it('sends a retained QoS 1 message\'s PUBACK only once the store has it', async () => {
    const stored = gate()
    const reached = gate()
    class SlowRetained extends AsyncMemory {
      override async storeRetained (packet: Parameters<AsyncMemory['storeRetained']>[0]): Promise<void> {
        if (packet.topic === 'slow') {
          reached.open()
          await stored.wait
        }
        return super.storeRetained(packet)
      }
    }
    const a = await startAedes({ persistence: new SlowRetained() as unknown as Persistence })
    const c = await connect(a.url, { protocolVersion: 5 })
    let acked = false
    const ack = publishAck(c, 'slow', 'x', { retain: true }).then((r) => { acked = true; return r })
    await reached.wait
    // A PUBACK written before the store answered would be on the wire ahead of this SUBACK.
    await c.subscribeAsync('other', { qos: 1 })
    expect(acked).toBe(false)
    stored.open()
    expect(await ack).toStrictEqual({ reasonCode: 0 })
    await c.endAsync()
  })

  it('sends a QoS 1 PUBACK only once the message is queued for an offline persistent session', async () => {
    const queued = gate()
    const reached = gate()
    class SlowQueue extends AsyncMemory {
      override async outgoingEnqueueCombi (subs: Parameters<AsyncMemory['outgoingEnqueueCombi']>[0], packet: Parameters<AsyncMemory['outgoingEnqueueCombi']>[1]): Promise<void> {
        if (packet.topic === 'q/t') {
          reached.open()
          await queued.wait
        }
        return super.outgoingEnqueueCombi(subs, packet)
      }
    }
    const a = await startAedes({ persistence: new SlowQueue() as unknown as Persistence })
    const away = await connect(a.url, { clientId: 'away', clean: false })
    await away.subscribeAsync('q/t', { qos: 1 })
    await away.endAsync()
    const c = await connect(a.url, { protocolVersion: 5 })
    let acked = false
    const ack = publishAck(c, 'q/t', 'x').then((r) => { acked = true; return r })
    await reached.wait
    await c.subscribeAsync('other', { qos: 1 })
    expect(acked).toBe(false)
    queued.open()
    expect(await ack).toStrictEqual({ reasonCode: 0 })
    await c.endAsync()
  })

  it('does not acknowledge a publish it could not store: MQTT 3.1.1 is closed, MQTT 5 gets DISCONNECT 0x80', async () => {
    class Failing extends AsyncMemory {
      override async storeRetained (packet: Parameters<AsyncMemory['storeRetained']>[0]): Promise<void> {
        if (packet.topic === 'fails') throw new Error('store down')
        return super.storeRetained(packet)
      }
    }
    const a = await startAedes({ persistence: new Failing() as unknown as Persistence })
    ;(a.broker as unknown as NodeJS.EventEmitter).on('error', () => {})
    const v5 = await connect(a.url, { protocolVersion: 5 })
    const disconnect = new Promise<IDisconnectPacket>((resolve) => v5.once('disconnect', resolve))
    let acked = false
    v5.publish('fails', 'x', { qos: 1, retain: true }, () => { acked = true })
    expect((await disconnect).reasonCode).toBe(0x80)
    const v3 = await connect(a.url, { protocolVersion: 4 })
    const closed = new Promise<void>((resolve) => v3.once('close', () => resolve()))
    v3.publish('fails', 'x', { qos: 1, retain: true }, () => { acked = true })
    await closed
    expect(acked).toBe(false)
    v5.end(true)
    v3.end(true)
  })

  it('disconnects, without a PUBACK, an MQTT 5 client whose publish the hook could not take (err.disconnect)', async () => {
    const a = await startAedes({ authorizePublish: (_client, _packet, done) => done(Object.assign(new Error('ledger down'), { disconnect: true })) })
    const c = await connect(a.url, { protocolVersion: 5 })
    const disconnect = new Promise<IDisconnectPacket>((resolve) => c.once('disconnect', resolve))
    let acked = false
    c.publish('t', 'x', { qos: 1 }, () => { acked = true })
    expect((await disconnect).reasonCode).toBe(0x80)
    expect(acked).toBe(false)
    c.end(true)
  })
})
