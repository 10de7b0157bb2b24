import mqtt, { type IConnackPacket, type IClientOptions } from 'mqtt'
import mqttPacket from 'mqtt-packet'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, connectInbox, publishAck } from '../helpers/mqtt.ts'
import { rawConnect } from '../helpers/raw-mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'

let t: TestHub | null = null
afterEach(async () => { await t?.stop(); t = null })

/** Connects and resolves with the CONNACK, refusals included. */
function connack (url: string, opts: IClientOptions): Promise<IConnackPacket> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
    client.on('packetreceive', (packet) => {
      if (packet.cmd !== 'connack') return
      resolve(packet as IConnackPacket)
      if ((packet as IConnackPacket).reasonCode || (packet as IConnackPacket).returnCode) client.end(true)
    })
    client.on('error', () => {})
  })
}

const code = (p: IConnackPacket): number | undefined => p.reasonCode ?? p.returnCode

describe('limits', () => {
  it('limits.maxPayloadBytes: a bigger payload is dead-lettered (PUBACK 0x97), a far bigger packet closes the connection (DISCONNECT 0x95), and MQTT 5 clients are told the limit', async () => {
    t = await startTestHub({ flags: { 'limits.maxPayloadBytes': 2048 } })
    const admin = await t.addUser({ username: 'root', role: 'admin' })
    const { client: sub, inbox } = await connectInbox(t.mqttUrl, { ...admin, protocolVersion: 5, clientId: 'watcher' })
    await sub.subscribeAsync('lab/#', { qos: 1 })
    const pub = await connectInbox(t.mqttUrl, { ...admin, protocolVersion: 5, clientId: 'big' })
    await pub.client.subscribeAsync('homefacts/deadletter/big', { qos: 1 })
    expect(await publishAck(pub.client, 'lab/ok', 'x'.repeat(2048))).toStrictEqual({ reasonCode: 0 })
    const ack = await publishAck(pub.client, 'lab/big', 'y'.repeat(4096))
    expect(ack.reasonCode).toBe(0x97)
    expect(ack.reasonString).toMatch(/^HF_TOO_LARGE: payload of 4096 bytes; limits.maxPayloadBytes is 2048/)
    const [letter] = await pub.inbox.wait('homefacts/deadletter/big')
    const dead = JSON.parse(letter!.payload) as { reason: { code: string }, topic: string, payload: string }
    expect([dead.reason.code, dead.topic, dead.payload.length]).toStrictEqual(['HF_TOO_LARGE', 'lab/big', 1024])

    const raw = await rawConnect(t.mqttUrl, { cmd: 'connect', protocolVersion: 5, clientId: 'huge', clean: true, keepalive: 0, username: admin.username, password: Buffer.from(admin.password) })
    const accepted = await raw.next((p) => p.cmd === 'connack') as { properties?: { maximumPacketSize?: number } }
    expect(accepted.properties?.maximumPacketSize).toBe(2048 + 65_536)
    // Only the packet's first KiB: the hub refuses it from its header. (Closing on a client still
    // writing would reset the connection, and the reset may discard the DISCONNECT.)
    const huge = mqttPacket.generate({ cmd: 'publish', topic: 'lab/huge', payload: Buffer.alloc(100_000), qos: 1, messageId: 1, retain: false, dup: false }, { protocolVersion: 5 })
    raw.socket.write(huge.subarray(0, 1024))
    expect(await raw.next((p) => p.cmd === 'disconnect')).toMatchObject({ reasonCode: 0x95 })
    await new Promise((resolve) => raw.socket.once('close', resolve))
    expect(inbox.messages.map((m) => m.topic)).toStrictEqual(['lab/ok'])
    await Promise.all([sub.endAsync(), pub.client.endAsync()])
  })

  it('limits.publishesPerSecond: past the burst a publish is dead-lettered with HF_RATE (PUBACK 0x97), never delivered; a client that keeps on is disconnected (0x96)', async () => {
    t = await startTestHub({ flags: { 'limits.publishesPerSecond': 0.01, 'limits.publishBurst': 3 } })
    const dev = await t.addUser({ username: 'cups', role: 'device', things: ['kitchen/+'] })
    const reader = await t.addUser({ username: 'reader', role: 'service' })
    const { client: sub, inbox } = await connectInbox(t.mqttUrl, { ...reader, protocolVersion: 5 })
    await sub.subscribeAsync('home/+/+/fact/+', { qos: 1 })
    const device = await connectInbox(t.mqttUrl, { ...dev, protocolVersion: 5, clientId: 'fast-cup' })
    await device.client.subscribeAsync('homefacts/deadletter/fast-cup', { qos: 1 })
    const facts = Array.from({ length: 5 }, (_, i) => cupEmpty(i + 1))
    const acks = []
    for (const f of facts) acks.push(await publishAck(device.client, 'home/kitchen/lily-cup/fact/empty', JSON.stringify(f)))
    // 0x97 quota exceeded: 0x96 (message rate too high) is for a DISCONNECT only.
    expect(acks.map((a) => a.reasonCode)).toStrictEqual([0, 0, 0, 0x97, 0x97])
    expect(acks[3]!.reasonString).toBe('HF_RATE: fast-cup publishes faster than limits.publishesPerSecond allows')
    const letters = await device.inbox.wait('homefacts/deadletter/fast-cup', 2)
    expect(letters.map((l) => (JSON.parse(JSON.parse(l.payload).payload) as { id: string }).id)).toStrictEqual(facts.slice(3).map((f) => f.id))
    await inbox.wait((m) => m.topic.endsWith('/fact/empty'), 3)
    expect(inbox.messages.map((m) => (JSON.parse(m.payload) as { id: string }).id)).toStrictEqual(facts.slice(0, 3).map((f) => f.id))
    // One that keeps on past a whole burst is disconnected: DISCONNECT 0x96.
    const disconnected = new Promise<{ reasonCode?: number }>((resolve) => device.client.once('disconnect', resolve))
    for (let i = 0; i < 3; i++) device.client.publish('home/kitchen/lily-cup/fact/empty', JSON.stringify(cupEmpty(10 + i)), { qos: 0 })
    expect((await disconnected).reasonCode).toBe(0x96)
    await sub.endAsync()
  })

  it('limits.connectionsPerUser: one more connection is refused (0x97; 3 on MQTT 3.1.1), a reconnect with the same client id is not one more', async () => {
    t = await startTestHub({ flags: { 'limits.connectionsPerUser': 2 } })
    const svc = await t.addUser({ username: 'svc', role: 'service' })
    const a = await connect(t.mqttUrl, { ...svc, clientId: 'a' })
    const b = await connect(t.mqttUrl, { ...svc, clientId: 'b' })
    const v5 = await connack(t.mqttUrl, { ...svc, clientId: 'c', protocolVersion: 5 })
    expect([code(v5), v5.properties?.reasonString]).toStrictEqual([0x97, 'HF_QUOTA: svc already holds the most connections one user may (limits.connectionsPerUser)'])
    expect(code(await connack(t.mqttUrl, { ...svc, clientId: 'c', protocolVersion: 4 }))).toBe(3)
    // A takeover of "a" is the same connection, moved.
    const again = await connect(t.mqttUrl, { ...svc, clientId: 'a' })
    const gone = new Promise((resolve) => b.stream.once('close', resolve))
    await b.endAsync()
    await gone
    const c = await connect(t.mqttUrl, { ...svc, clientId: 'c' })
    expect(c.connected).toBe(true)
    await Promise.all([a.endAsync(true), again.endAsync(), c.endAsync()])
  })

  it('limits.loginFailures: after them even the right password waits (0x9F, HF_LOGIN_THROTTLED), per user name and per address', async () => {
    t = await startTestHub({ flags: { 'limits.loginFailures': 2 } })
    const user = await t.addUser({ username: 'lily', role: 'service' })
    for (let i = 0; i < 2; i++) expect(code(await connack(t.mqttUrl, { username: 'lily', password: 'wrong', protocolVersion: 5 }))).toBe(0x86)
    const throttled = await connack(t.mqttUrl, { ...user, protocolVersion: 5 })
    expect(code(throttled)).toBe(0x9F)
    expect(throttled.properties?.reasonString).toMatch(/^HF_LOGIN_THROTTLED: too many failed logins; try again in \d+ s$/)
    // The address is counted too: another user from it waits as well.
    const other = await t.addUser({ username: 'rose', role: 'service' })
    expect(code(await connack(t.mqttUrl, { ...other, protocolVersion: 4 }))).toBe(3)
  })

  it('limits.liveQueueBytes: a subscriber that stops reading is disconnected and its QoS 0 messages dropped; its persistent QoS 1 queue is kept whole', async () => {
    t = await startTestHub({ flags: { 'limits.liveQueueBytes': 65_536 } })
    const admin = await t.addUser({ username: 'root', role: 'admin' })
    const session = { cmd: 'connect', protocolVersion: 5, clientId: 'slow', clean: false, keepalive: 0, username: admin.username, password: Buffer.from(admin.password), properties: { sessionExpiryInterval: 3600 } }
    const slow = await rawConnect(t.mqttUrl, session)
    slow.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'lab/zero', qos: 0 }, { topic: 'lab/one', qos: 1 }] })
    await slow.next((p) => p.cmd === 'suback')
    slow.socket.pause()
    const closed = new Promise((resolve) => slow.socket.once('close', resolve))
    const pub = await connect(t.mqttUrl, { ...admin, protocolVersion: 5 })
    const chunk = Buffer.alloc(60_000, 1)
    const ones: Promise<unknown>[] = []
    for (let i = 0; i < 100; i++) {
      ones.push(pub.publishAsync('lab/one', Buffer.concat([Buffer.from(String(i).padStart(4, '0')), chunk]), { qos: 1 }))
      pub.publish('lab/zero', chunk, { qos: 0 })
    }
    await Promise.all(ones)
    slow.socket.resume()
    await closed
    // Back with a client that reads: every QoS 1 message, once each, in order.
    const back = mqtt.connect(t.mqttUrl, { ...admin, protocolVersion: 5, clientId: 'slow', clean: false, reconnectPeriod: 0, properties: { sessionExpiryInterval: 3600 } })
    const seen: string[] = []
    back.on('message', (topic, payload) => { if (topic === 'lab/one') seen.push(payload.subarray(0, 4).toString()) })
    const firstSent = slow.received.filter((p) => p.cmd === 'publish' && p.topic === 'lab/one').map((p) => (p.payload as Buffer).subarray(0, 4).toString())
    await expect.poll(() => new Set([...firstSent, ...seen]).size, { timeout: 15_000 }).toBe(100)
    expect([...new Set([...firstSent, ...seen])].sort()).toStrictEqual(Array.from({ length: 100 }, (_, i) => String(i).padStart(4, '0')))
    expect(t.hub.broker.counters.slowDisconnects).toBe(1)
    expect(t.hub.broker.counters.droppedQos0).toBeGreaterThan(0)
    await Promise.all([pub.endAsync(), back.endAsync()])
  })
})
