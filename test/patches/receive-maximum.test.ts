import { describe, expect, it } from 'vitest'
import { rawConnect, type RawPacket } from '../helpers/raw-mqtt.ts'
import { gate, startAedes } from './plain-aedes.ts'
import AsyncMemory from 'aedes-persistence/asyncPersistence.js'
import type { AedesOptions } from 'aedes'

type Persistence = NonNullable<AedesOptions['persistence']>
const publish = (n: number, qos: 1 | 2): RawPacket => ({ cmd: 'publish', topic: `in/${n}`, payload: Buffer.from(String(n)), qos, messageId: n, retain: false, dup: false })

/**
 * patches/aedes+2.0.0-beta.1+009+receive-maximum.patch: the broker's Receive Maximum is told in
 * CONNACK and kept: one QoS 1 or 2 PUBLISH more than it unanswered is DISCONNECT 0x93 (MQTT 5
 * §4.9, Flow Control).
 */
describe('the broker\'s Receive Maximum (patched aedes)', () => {
  it('tells an MQTT 5 client its Receive Maximum, takes that many unanswered QoS 2 PUBLISHes, and disconnects it with 0x93 at one more', async () => {
    const a = await startAedes({ receiveMaximum: 3 })
    const c = await rawConnect(a.url, { cmd: 'connect', protocolVersion: 5, clientId: 'flood', clean: true, keepalive: 0 })
    expect(await c.next((p) => p.cmd === 'connack')).toMatchObject({ reasonCode: 0, properties: { receiveMaximum: 3 } })
    for (const n of [1, 2, 3]) c.send(publish(n, 2))
    await c.next((p) => p.cmd === 'pubrec' && p.messageId === 3)
    // Answered with PUBCOMP, the first one frees its place.
    c.send({ cmd: 'pubrel', messageId: 1 })
    await c.next((p) => p.cmd === 'pubcomp' && p.messageId === 1)
    c.send(publish(4, 2))
    await c.next((p) => p.cmd === 'pubrec' && p.messageId === 4)
    // A resend of one still in flight is not one more.
    c.send({ ...publish(4, 2), dup: true })
    c.send(publish(5, 2))
    expect(await c.next((p) => p.cmd === 'disconnect')).toMatchObject({ reasonCode: 0x93 })
    expect(c.received.filter((p) => p.cmd === 'pubrec').map((p) => p.messageId)).toStrictEqual([1, 2, 3, 4, 4])
    c.socket.destroy()
  })

  it('counts a QoS 1 PUBLISH until its PUBACK is sent', async () => {
    const stored = gate()
    class SlowQueue extends AsyncMemory {
      override async storeRetained (packet: Parameters<AsyncMemory['storeRetained']>[0]): Promise<void> {
        await stored.wait
        return super.storeRetained(packet)
      }
    }
    const a = await startAedes({ receiveMaximum: 2, persistence: new SlowQueue() as unknown as Persistence })
    const c = await rawConnect(a.url, { cmd: 'connect', protocolVersion: 5, clientId: 'q1', clean: true, keepalive: 0 })
    // Retained: each waits for the store, so none is answered yet when the third comes.
    for (const n of [1, 2, 3]) c.send({ ...publish(n, 1), retain: true })
    expect(await c.next((p) => p.cmd === 'disconnect')).toMatchObject({ reasonCode: 0x93 })
    stored.open()
    c.socket.destroy()
  })

  it('enforces nothing on MQTT 3.1.1, which has no Receive Maximum, nor when the option is 0', async () => {
    const limited = await startAedes({ receiveMaximum: 2 })
    const v3 = await rawConnect(limited.url, { cmd: 'connect', protocolVersion: 4, clientId: 'v3', clean: true, keepalive: 0 })
    for (const n of [1, 2, 3, 4]) v3.send(publish(n, 2))
    await v3.next((p) => p.cmd === 'pubrec' && p.messageId === 4)
    v3.socket.destroy()
    await limited.close()
    const unlimited = await startAedes()
    const v5 = await rawConnect(unlimited.url, { cmd: 'connect', protocolVersion: 5, clientId: 'v5', clean: true, keepalive: 0 })
    expect((await v5.next((p) => p.cmd === 'connack')).properties).not.toHaveProperty('receiveMaximum')
    for (const n of [1, 2, 3, 4]) v5.send(publish(n, 2))
    await v5.next((p) => p.cmd === 'pubrec' && p.messageId === 4)
    expect(v5.received.some((p) => p.cmd === 'disconnect')).toBe(false)
    v5.socket.destroy()
  })
})
