import type { IPublishPacket } from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'

let t: TestHub | null = null
afterEach(async () => { await t?.stop(); t = null })

describe('contract metadata in MQTT 5', () => {
  it('sets the validated type and id as user properties, the CloudEvents content type and the UTF-8 indicator on every accepted fact', async () => {
    t = await startTestHub()
    const dev = await t.addUser({ username: 'cups', role: 'device', things: ['kitchen/+'] })
    const reader = await t.addUser({ username: 'reader', role: 'service' })
    const v5 = await connect(t.mqttUrl, { ...reader, protocolVersion: 5, clientId: 'reader-5' })
    const v4 = await connect(t.mqttUrl, { ...reader, protocolVersion: 4, clientId: 'reader-4' })
    const got5: IPublishPacket[] = []
    const got4: IPublishPacket[] = []
    v5.on('message', (_t, _p, packet) => got5.push(packet))
    v4.on('message', (_t, _p, packet) => got4.push(packet))
    await Promise.all([v5.subscribeAsync('home/+/+/fact/+', { qos: 1 }), v4.subscribeAsync('home/+/+/fact/+', { qos: 1 })])

    // A 3.1.1 device, and a v5 one that sends a user property of its own and a false `type`.
    const device4 = await connect(t.mqttUrl, { ...dev, protocolVersion: 4, clientId: 'cups-4' })
    const device5 = await connect(t.mqttUrl, { ...dev, protocolVersion: 5, clientId: 'cups-5' })
    const first = cupEmpty(1)
    const second = cupEmpty(2)
    await device4.publishAsync('home/kitchen/lily-cup/fact/empty', JSON.stringify(first), { qos: 1 })
    await device5.publishAsync('home/kitchen/lily-cup/fact/empty', JSON.stringify(second), { qos: 1, properties: { userProperties: { type: 'door.opened', room: 'kitchen' } } })
    await expect.poll(() => got5.length + got4.length).toBe(4)

    // mqtt-packet decodes user properties into an object of its own making: compare by value.
    expect(got5.map((p) => JSON.parse(JSON.stringify(p.properties)))).toStrictEqual([
      { payloadFormatIndicator: true, contentType: 'application/cloudevents+json', userProperties: { type: 'cup.empty', id: first.id } },
      { payloadFormatIndicator: true, contentType: 'application/cloudevents+json', userProperties: { room: 'kitchen', type: 'cup.empty', id: second.id } }
    ])
    expect(got5.map((p) => JSON.parse(p.payload.toString()))).toStrictEqual([first, second])
    expect(got4.map((p) => [p.properties, JSON.parse(p.payload.toString())])).toStrictEqual([[undefined, first], [undefined, second]])
    await Promise.all([v5, v4, device4, device5].map((c) => c.endAsync()))
  })
})
