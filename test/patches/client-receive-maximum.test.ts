import { describe, expect, it } from 'vitest'
import { connect } from '../helpers/mqtt.ts'
import { rawConnect } from '../helpers/raw-mqtt.ts'
import { startAedes } from './plain-aedes.ts'

/** patches/aedes+2.0.0-beta.1+006+client-receive-maximum.patch: the client's Receive Maximum is kept [MQTT-3.3.4-9]. */
describe('the client\'s Receive Maximum (patched aedes)', () => {
  it('keeps at most Receive Maximum QoS 1 PUBLISHes in flight to a client, and sends the held ones in order as PUBACKs free slots [MQTT-3.3.4-9]', async () => {
    const a = await startAedes()
    const url = a.url
    const raw = await rawConnect(url, { cmd: 'connect', protocolVersion: 5, clientId: 'window', clean: true, keepalive: 0, properties: { receiveMaximum: 2 } })
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'w/#', qos: 1 }] })
    await raw.next((p) => p.cmd === 'suback')
    const pub = await connect(url, { protocolVersion: 5 })
    for (const n of [1, 2, 3, 4]) await pub.publishAsync(`w/${n}`, `m${n}`, { qos: 1 })
    // QoS 0 is not held back [MQTT-3.3.4-10]: it comes after the two in flight, ahead of the held ones.
    await pub.publishAsync('w/sentinel', 's', { qos: 0 })
    await raw.next((p) => p.topic === 'w/sentinel')
    expect(raw.publishes()).toStrictEqual(['w/1@1', 'w/2@1', 'w/sentinel@0'])
    const [first, second] = raw.received.filter((p) => p.qos === 1)
    raw.send({ cmd: 'puback', messageId: first!.messageId, reasonCode: 0 })
    await raw.next((p) => p.topic === 'w/3')
    raw.send({ cmd: 'puback', messageId: second!.messageId, reasonCode: 0 })
    await raw.next((p) => p.topic === 'w/4')
    expect(raw.publishes()).toStrictEqual(['w/1@1', 'w/2@1', 'w/sentinel@0', 'w/3@1', 'w/4@1'])
    raw.socket.destroy()
    await pub.endAsync()
  })
})
