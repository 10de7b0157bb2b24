import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox, nextPublish, pastExpiry } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'

let t: TestHub | null = null
const dirs: string[] = []
afterEach(async () => {
  await t?.stop()
  t = null
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})


/** mqtt-packet decodes user properties into an object of its own making: compare by value. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

describe('MQTT 5 messages kept by the hub keep their properties', () => {
  it('delivers a fact queued for an offline v5 session with its contract metadata', async () => {
    t = await startTestHub()
    const dev = await t.addUser({ username: 'cups', role: 'device', things: ['kitchen/+'] })
    const reader = await t.addUser({ username: 'reader', role: 'service' })
    const session = { ...reader, protocolVersion: 5 as const, clientId: 'reader-away', clean: false, properties: { sessionExpiryInterval: 3600 } }
    const first = await connect(t.mqttUrl, session)
    await first.subscribeAsync('home/+/+/fact/+', { qos: 1 })
    await first.endAsync()
    const device = await connect(t.mqttUrl, { ...dev, protocolVersion: 5, clientId: 'cups-5' })
    const fact = cupEmpty(1)
    await device.publishAsync('home/kitchen/lily-cup/fact/empty', JSON.stringify(fact), { qos: 1, properties: { messageExpiryInterval: 3600 } })

    // A resumed session's queued messages follow CONNACK at once: listen before connecting.
    const again = mqtt.connect(t.mqttUrl, { ...session, reconnectPeriod: 0 })
    const packet = await nextPublish(again, 'home/kitchen/lily-cup/fact/empty')
    expect(JSON.parse(packet.payload.toString())).toStrictEqual(fact)
    expect(plain(packet.properties)).toMatchObject({ payloadFormatIndicator: true, contentType: 'application/cloudevents+json', userProperties: { type: 'cup.empty', id: fact.id } })
    expect(packet.properties?.messageExpiryInterval).toBeLessThanOrEqual(3600)
    expect(packet.properties?.messageExpiryInterval).toBeGreaterThan(3590)
    await Promise.all([again.endAsync(), device.endAsync()])
  })

  it('keeps a retained message\'s properties across a restart, and sends none after its Message Expiry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homefacts-v5-'))
    dirs.push(dir)
    t = await startTestHub({ anonymous: true, dir })
    const pub = await connect(t.anonymousUrl, { protocolVersion: 5 })
    await pub.publishAsync('lab/short', 'gone', { qos: 1, retain: true, properties: { messageExpiryInterval: 1 } })
    await pub.publishAsync('lab/long', 'kept', { qos: 1, retain: true, properties: { messageExpiryInterval: 3600, contentType: 'text/plain', userProperties: { room: 'lab' } } })
    await pub.endAsync()
    await t.stop()
    t = await startTestHub({ anonymous: true, dir })
    await pastExpiry(1)

    const sub = await connect(t.anonymousUrl, { protocolVersion: 5 })
    const inbox = new Inbox(sub)
    const got = nextPublish(sub, 'lab/long')
    // Retained messages are sent filter by filter, in the SUBSCRIBE's order: an expired one sent would come first.
    await sub.subscribeAsync(['lab/short', 'lab/long'], { qos: 1 })
    const packet = await got
    expect(inbox.messages.map((m) => [m.topic, m.payload, m.retain])).toStrictEqual([['lab/long', 'kept', true]])
    expect(plain(packet.properties)).toMatchObject({ contentType: 'text/plain', userProperties: { room: 'lab' } })
    expect(packet.properties?.messageExpiryInterval).toBeGreaterThan(3590)
    await sub.endAsync()
  })
})
