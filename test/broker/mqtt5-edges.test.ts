import { afterEach, describe, expect, it } from 'vitest'
import { startTestHub, closedByBroker, type TestHub } from '../helpers/hub.ts'
import { connect, connectInbox, Inbox, publishAck } from '../helpers/mqtt.ts'
import { rawConnect, type RawPacket } from '../helpers/raw-mqtt.ts'
import type { Credentials } from '../../services/hub/secrets.ts'

/**
 * MQTT 5's edges on a real hub, over TCP, with its own session store, sent as an outside client
 * would send them (patches/README.md says which aedes fix each one stands on).
 */
let t: TestHub | null = null
afterEach(async () => {
  await t?.stop()
  t = null
})

const raw = (creds: Credentials, clientId: string, extra: Partial<RawPacket> = {}): RawPacket =>
  ({ cmd: 'connect', protocolVersion: 5, clientId, clean: true, keepalive: 0, username: creds.username, password: Buffer.from(creds.password), ...extra })
const qos2 = (messageId: number, payload: string): RawPacket => ({ cmd: 'publish', topic: 'lab/q2', payload: Buffer.from(payload), qos: 2, messageId, retain: false, dup: false })

describe('MQTT 5 on the hub', () => {
  it('delivers a new QoS 2 message on packet id 7 from a client that reconnects with Clean Start 1 after a PUBREC it never released [MQTT-3.1.2-4]', async () => {
    t = await startTestHub()
    const admin = await t.addUser({ username: 'ops', role: 'admin' })
    const { client: sub, inbox } = await connectInbox(t.mqttUrl, { ...admin, protocolVersion: 5 })
    await sub.subscribeAsync('lab/q2', { qos: 2 })
    const first = await rawConnect(t.mqttUrl, raw(admin, 'q2', { clean: false, properties: { sessionExpiryInterval: 300 } }))
    first.send(qos2(7, 'first'))
    await first.next((p) => p.cmd === 'pubrec' && p.messageId === 7)
    const gone = closedByBroker(t, 'q2')
    first.socket.destroy()
    await gone
    const again = await rawConnect(t.mqttUrl, raw(admin, 'q2'))
    again.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'lab/q2', qos: 2 }] })
    await again.next((p) => p.cmd === 'suback')
    again.send(qos2(7, 'second'))
    await again.next((p) => p.cmd === 'pubrec' && p.messageId === 7)
    again.send({ cmd: 'pubrel', messageId: 7 })
    await again.next((p) => p.cmd === 'pubcomp' && p.messageId === 7)
    await inbox.wait((m) => m.payload === 'second')
    expect(inbox.messages.map((m) => m.payload)).toStrictEqual(['first', 'second'])
    // The client that sent it gets it too (no No Local), once.
    const own = await again.next((p) => p.cmd === 'publish')
    expect((own.payload as Buffer).toString()).toBe('second')
    again.socket.destroy()
    await sub.endAsync()
  })

  it('delivers a session\'s queue to a resume with Clean Start 0 and no Session Expiry, then ends the session with that connection [MQTT-3.1.2-5]', async () => {
    t = await startTestHub()
    const admin = await t.addUser({ username: 'ops', role: 'admin' })
    const away = await connect(t.mqttUrl, { ...admin, protocolVersion: 5, clientId: 'resumer', clean: true, properties: { sessionExpiryInterval: 300 } })
    await away.subscribeAsync('lab/resume', { qos: 1 })
    const gone = closedByBroker(t, 'resumer')
    await away.endAsync()
    await gone
    const pub = await connect(t.mqttUrl, { ...admin, protocolVersion: 5 })
    for (const n of ['one', 'two']) expect(await publishAck(pub, 'lab/resume', n)).toStrictEqual({ reasonCode: 0 })
    const back = await rawConnect(t.mqttUrl, raw(admin, 'resumer', { clean: false }))
    expect(await back.next((p) => p.cmd === 'connack')).toMatchObject({ sessionPresent: true, reasonCode: 0 })
    await back.next((p) => p.cmd === 'publish' && (p.payload as Buffer).toString() === 'two')
    expect(back.received.filter((p) => p.cmd === 'publish').map((p) => [p.topic, (p.payload as Buffer).toString(), p.qos])).toStrictEqual([['lab/resume', 'one', 1], ['lab/resume', 'two', 1]])
    const ended = closedByBroker(t, 'resumer')
    back.socket.destroy()
    await ended
    const later = await rawConnect(t.mqttUrl, raw(admin, 'resumer', { clean: false }))
    expect(await later.next((p) => p.cmd === 'connack')).toMatchObject({ sessionPresent: false })
    later.socket.destroy()
    await pub.endAsync()
  })

  it('sends one copy of a message that matches two subscriptions, carrying both Subscription Identifiers [MQTT-3.3.4-4]', async () => {
    t = await startTestHub()
    const admin = await t.addUser({ username: 'ops', role: 'admin' })
    const c = await rawConnect(t.mqttUrl, raw(admin, 'ids'))
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'lab/si/#', qos: 1 }], properties: { subscriptionIdentifier: 2 } })
    c.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'lab/si/+', qos: 1 }], properties: { subscriptionIdentifier: 3 } })
    await c.next((p) => p.cmd === 'suback' && p.messageId === 2)
    const pub = await connect(t.mqttUrl, { ...admin, protocolVersion: 5 })
    await pub.publishAsync('lab/si/x', 'x', { qos: 1 })
    await pub.publishAsync('lab/si/end', 'end', { qos: 1 })
    await c.next((p) => p.topic === 'lab/si/end')
    expect(c.received.filter((p) => p.topic === 'lab/si/x').map((p) => (p.properties as { subscriptionIdentifier?: unknown }).subscriptionIdentifier)).toStrictEqual([[2, 3]])
    c.socket.destroy()
    await pub.endAsync()
  })

  it('tells an MQTT 5 client its Receive Maximum in CONNACK, and disconnects one that floods QoS 2 past it with 0x93, with no refusal on the way', async () => {
    t = await startTestHub({ flags: { 'limits.receiveMaximum': 8 } })
    const admin = await t.addUser({ username: 'ops', role: 'admin' })
    const c = await rawConnect(t.mqttUrl, raw(admin, 'flood'))
    expect(await c.next((p) => p.cmd === 'connack')).toMatchObject({ reasonCode: 0, properties: { receiveMaximum: 8 } })
    // A client that never sends PUBREL keeps each one unanswered.
    for (let n = 1; n <= 9; n++) c.send({ ...qos2(n, String(n)), topic: 'lab/flood' })
    expect(await c.next((p) => p.cmd === 'disconnect')).toMatchObject({ reasonCode: 0x93 })
    expect(c.received.filter((p) => p.cmd === 'pubrec').map((p) => [p.messageId, p.reasonCode ?? 0])).toStrictEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => [n, 0]))
    c.socket.destroy()
  })

  it('lets an admin publish on a $ topic outside $SYS/, and refuses everyone else and $SYS/', async () => {
    t = await startTestHub()
    const admin = await t.addUser({ username: 'ops', role: 'admin' })
    const member = await t.addUser({ username: 'mummy', role: 'member', member: 'mummy' })
    const { client: sub, inbox } = await connectInbox(t.mqttUrl, { ...admin, protocolVersion: 5 })
    await sub.subscribeAsync('$TopicA/#', { qos: 1 })
    const a = await connect(t.mqttUrl, { ...admin, protocolVersion: 5 })
    expect(await publishAck(a, '$TopicA/B', 'ok')).toStrictEqual({ reasonCode: 0 })
    expect(await inbox.wait('$TopicA/B')).toStrictEqual([{ topic: '$TopicA/B', payload: 'ok', qos: 1, retain: false }])
    expect(await publishAck(a, '$SYS/x/uptime', 'no')).toMatchObject({ reasonCode: 0x87 })
    const m = await connect(t.mqttUrl, { ...member, protocolVersion: 5 })
    expect(await publishAck(m, '$TopicA/C', 'no')).toMatchObject({ reasonCode: 0x87 })
    await Promise.all([sub.endAsync(), a.endAsync(), m.endAsync()])
  })

  it('loses and reorders nothing when retained states and facts of many devices arrive at once', async () => {
    t = await startTestHub()
    const admin = await t.addUser({ username: 'ops', role: 'admin' })
    const { client: sub, inbox } = await connectInbox(t.mqttUrl, { ...admin, protocolVersion: 5 })
    await sub.subscribeAsync('lab/burst/#', { qos: 1 })
    const devices = await Promise.all(Array.from({ length: 8 }, () => connect(t!.mqttUrl, { ...admin, protocolVersion: 5 })))
    const ROUNDS = 50
    // No awaits between them: each device's state (retained, a store write) and its plain topic interleave.
    await Promise.all(devices.map((d, i) => Promise.all(Array.from({ length: ROUNDS }, (_, n) => [
      d.publishAsync(`lab/burst/${i}/state`, String(n), { qos: 1, retain: true }),
      d.publishAsync(`lab/burst/${i}/event`, String(n), { qos: n % 2 === 0 ? 0 : 1 })
    ]).flat())))
    await sub.publishAsync('lab/burst/end', 'end', { qos: 1 })
    await inbox.wait('lab/burst/end')
    for (let i = 0; i < devices.length; i++) {
      const seen = inbox.messages.filter((m) => m.topic.startsWith(`lab/burst/${i}/`)).map((m) => `${m.topic.endsWith('state') ? 's' : 'e'}${m.payload}`)
      expect(seen).toStrictEqual(Array.from({ length: ROUNDS }, (_, n) => [`s${n}`, `e${n}`]).flat())
    }
    await Promise.all([sub.endAsync(), ...devices.map((d) => d.endAsync())])
  })
})
