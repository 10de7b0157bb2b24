import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Aedes, type AedesOptions } from 'aedes'
import LevelPersistence from 'aedes-persistence-level/asyncPersistence.js'
import { Level } from 'level'
import mqtt, { type IClientOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt'
import { connect, Inbox, subscribeCodes } from '../helpers/mqtt.ts'
import { rawConnect } from '../helpers/raw-mqtt.ts'
import mqttPacket from 'mqtt-packet'

/** The two stores the broker runs on: aedes's in-memory one and aedes-persistence-level. */
const stores: Record<string, (dir: string) => AedesOptions> = {
  memory: () => ({}),
  level: (dir) => ({ persistence: new LevelPersistence(new Level(dir, { valueEncoding: 'buffer' })) as unknown as AedesOptions['persistence'] })
}

/** Connects with an inbox that listens from the start, and resolves with the CONNACK's Session Present flag. */
function resume (url: string, opts: IClientOptions): Promise<{ client: MqttClient, inbox: Inbox, sessionPresent: boolean }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
  const inbox = new Inbox(client)
  return new Promise((resolve, reject) => {
    client.once('connect', (connack: IConnackPacket) => resolve({ client, inbox, sessionPresent: connack.sessionPresent }))
    client.once('error', reject)
  })
}

/**
 * The MQTT 5 parts of the aedes 2.0.0-beta.1 patch (patches/aedes+2.0.0-beta.1.patch), on plain
 * aedes with its in-memory store, as they would be offered upstream.
 */
/** Resolves once `seconds` of Message Expiry have passed for a message published before the call. */
function pastExpiry (seconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 100))
}

describe('patched aedes, MQTT 5', () => {
  let broker: Aedes | undefined
  let server: Server | undefined
  const dirs: string[] = []
  afterEach(async () => {
    // The broker first: it closes the connections a failed test left open, which server.close() waits for.
    await new Promise<void>((resolve) => broker ? broker.close(() => resolve()) : resolve())
    await new Promise<void>((resolve) => server ? server.close(() => resolve()) : resolve())
    broker = undefined
    server = undefined
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })

  async function start (opts: AedesOptions = {}): Promise<string> {
    broker = await Aedes.createBroker(opts)
    server = createServer(broker.handle)
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    return `mqtt://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  }

  function nextPublish (client: Awaited<ReturnType<typeof connect>>, topic: string): Promise<IPublishPacket> {
    return new Promise((resolve) => {
      client.on('message', (t: string, _payload: Buffer, packet: IPublishPacket) => { if (t === topic) resolve(packet) })
    })
  }

  it('forwards only the PUBLISH properties of a will, not its Will Delay Interval (MQTT 5 §3.1.3.2)', async () => {
    const url = await start()
    const sub = await connect(url, { protocolVersion: 5 })
    await sub.subscribeAsync('dev/status', { qos: 1 })
    const will = nextPublish(sub, 'dev/status')
    const dev = await connect(url, {
      protocolVersion: 5,
      will: {
        topic: 'dev/status',
        payload: Buffer.from('offline'),
        qos: 1,
        retain: false,
        properties: {
          // No Session Expiry, so the session ends at once and the will goes with it.
          willDelayInterval: 30,
          payloadFormatIndicator: true,
          messageExpiryInterval: 600,
          contentType: 'text/plain',
          responseTopic: 'dev/reply',
          correlationData: Buffer.from('c1'),
          userProperties: { kind: 'availability' }
        }
      }
    })
    dev.stream.destroy()
    const packet = await will
    expect(packet.payload.toString()).toBe('offline')
    // toEqual: mqtt-packet decodes user properties into a prototype-less object. No other key may be there.
    expect(Object.keys(packet.properties ?? {}).sort()).toStrictEqual(['contentType', 'correlationData', 'messageExpiryInterval', 'payloadFormatIndicator', 'responseTopic', 'userProperties'])
    expect(packet.properties).toEqual({
      payloadFormatIndicator: true,
      messageExpiryInterval: 600,
      contentType: 'text/plain',
      responseTopic: 'dev/reply',
      correlationData: Buffer.from('c1'),
      userProperties: { kind: 'availability' }
    })
    await sub.endAsync()
  })

  it('does not send a PUBLISH larger than the client\'s Maximum Packet Size, at any QoS [MQTT-3.1.2-24]', async () => {
    const url = await start()
    const sub = await connect(url, { protocolVersion: 5, properties: { maximumPacketSize: 100 } })
    const inbox = new Inbox(sub)
    const discarded: string[] = []
    broker!.on('packetDiscarded', (packet) => discarded.push(`${packet.topic}@${packet.qos}`))
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

  it('tells a client that sends a packet past the broker\'s Maximum Packet Size right after CONNACK why it is closed: DISCONNECT 0x95 [MQTT-3.2.2-15]', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aedes-store-'))
    dirs.push(dir)
    const url = await start({ ...stores.level!(dir), maximumPacketSize: 4096 })
    // The connect's own steps (on the level store, reading the session's queue) may still be
    // running after its CONNACK: ten tries hit that window.
    for (let i = 0; i < 10; i++) {
      const raw = await rawConnect(url, { cmd: 'connect', protocolVersion: 5, clientId: `big-${i}`, clean: true, keepalive: 0 })
      const big = mqttPacket.generate({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(100_000), qos: 1, messageId: 1, retain: false, dup: false } as never, { protocolVersion: 5 })
      // Only the first KiB: it is refused from its header (a close on a client still writing resets the connection).
      raw.socket.write(big.subarray(0, 1024))
      expect(await raw.next((p) => p.cmd === 'disconnect')).toMatchObject({ reasonCode: 0x95 })
      raw.socket.destroy()
    }
  })

  it('keeps at most Receive Maximum QoS 1 PUBLISHes in flight to a client, and sends the held ones in order as PUBACKs free slots [MQTT-3.3.4-9]', async () => {
    const url = await start()
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

  for (const [store, options] of Object.entries(stores)) {
    describe(`on the ${store} store`, () => {
      function startOn (): Promise<string> {
        const dir = mkdtempSync(join(tmpdir(), 'aedes-store-'))
        dirs.push(dir)
        return start(options(dir))
      }

      /** Ends a connection abruptly, and resolves once the broker has closed it. */
      async function drop (client: MqttClient): Promise<void> {
        const gone = new Promise<void>((resolve) => broker!.once('clientDisconnect', () => resolve()))
        client.stream.destroy()
        await gone
      }

      it('resumes a session with Clean Start 0 and no Session Expiry, with its queued messages, and ends it at that disconnect [MQTT-3.1.2-5]', async () => {
        const url = await startOn()
        const first = await connect(url, { protocolVersion: 5, clientId: 'resumer', clean: false, properties: { sessionExpiryInterval: 3600 } })
        await first.subscribeAsync('q/t', { qos: 1 })
        await drop(first)
        const pub = await connect(url, { protocolVersion: 5 })
        await pub.publishAsync('q/t', 'queued', { qos: 1 })
        // No Session Expiry: the session ends when this connection does [MQTT-3.1.2-23].
        const second = await resume(url, { protocolVersion: 5, clientId: 'resumer', clean: false })
        expect(second.sessionPresent).toBe(true)
        expect(await second.inbox.wait('q/t')).toStrictEqual([{ topic: 'q/t', payload: 'queued', qos: 1, retain: false }])
        await drop(second.client)
        const third = await resume(url, { protocolVersion: 5, clientId: 'resumer', clean: false })
        expect(third.sessionPresent).toBe(false)
        await Promise.all([pub.endAsync(), third.client.endAsync()])
      })

      it('discards a queued QoS 1 message too large for the resumed client and counts it as delivered, so it never comes later [MQTT-3.1.2-25]', async () => {
        const url = await startOn()
        const session = { protocolVersion: 5 as const, clientId: 'small', clean: false, properties: { sessionExpiryInterval: 3600, maximumPacketSize: 100 } }
        const first = await connect(url, session)
        await first.subscribeAsync('q/#', { qos: 1 })
        await drop(first)
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

      it('keeps a queued message\'s MQTT 5 properties, and drops one whose Message Expiry passed while it was queued [MQTT-3.3.2-5]', async () => {
        const url = await startOn()
        const session = { protocolVersion: 5 as const, clientId: 'away', clean: false, properties: { sessionExpiryInterval: 3600 } }
        const first = await connect(url, session)
        await first.subscribeAsync('q/#', { qos: 1 })
        await drop(first)
        const pub = await connect(url, { protocolVersion: 5 })
        const properties = { userProperties: { type: 'cup.emptied' }, contentType: 'application/json', payloadFormatIndicator: true, correlationData: Buffer.from('c1') }
        await pub.publishAsync('q/short', 'gone', { qos: 1, properties: { messageExpiryInterval: 1 } })
        await pub.publishAsync('q/long', 'kept', { qos: 1, properties: { ...properties, messageExpiryInterval: 3600 } })
        await pastExpiry(1)
        const second = await resume(url, session)
        const packet = await nextPublish(second.client, 'q/long')
        // The queue is sent in order: had the expired one been sent, it would have come first.
        expect(second.inbox.messages.map((m) => m.topic)).toStrictEqual(['q/long'])
        expect(packet.properties).toMatchObject(properties)
        // The interval left, not the one it was published with [MQTT-3.3.2-6].
        expect(packet.properties?.messageExpiryInterval).toBeLessThanOrEqual(3599)
        expect(packet.properties?.messageExpiryInterval).toBeGreaterThan(3590)
        await Promise.all([pub.endAsync(), second.client.endAsync()])
      })

      it('sends a retained message with its MQTT 5 properties, and not after its Message Expiry [MQTT-3.3.2-5]', async () => {
        const url = await startOn()
        const pub = await connect(url, { protocolVersion: 5 })
        await pub.publishAsync('r/short', 'gone', { qos: 1, retain: true, properties: { messageExpiryInterval: 1 } })
        await pub.publishAsync('r/long', 'kept', { qos: 1, retain: true, properties: { userProperties: { id: 'f1' }, contentType: 'text/plain', messageExpiryInterval: 3600 } })
        await pastExpiry(1)
        const sub = await connect(url, { protocolVersion: 5 })
        const got = nextPublish(sub, 'r/long')
        const inbox = new Inbox(sub)
        // Retained messages are sent filter by filter, in the SUBSCRIBE's order: an expired one sent would come first.
        await sub.subscribeAsync(['r/short', 'r/long'], { qos: 1 })
        await inbox.wait('r/long')
        expect(inbox.messages.map((m) => m.topic)).toStrictEqual(['r/long'])
        expect((await got).properties).toMatchObject({ userProperties: { id: 'f1' }, contentType: 'text/plain' })
        await Promise.all([pub.endAsync(), sub.endAsync()])
      })

      it('has no session for a client whose last connection had no Session Expiry, and restores none of its subscriptions [MQTT-3.1.2-23]', async () => {
        const url = await startOn()
        const first = await connect(url, { protocolVersion: 5, clientId: 'brief', clean: false })
        await first.subscribeAsync('q/t', { qos: 1 })
        await drop(first)
        const pub = await connect(url, { protocolVersion: 5 })
        await pub.publishAsync('q/t', 'while away', { qos: 1 })
        const again = await resume(url, { protocolVersion: 5, clientId: 'brief', clean: false })
        expect(again.sessionPresent).toBe(false)
        await again.client.subscribeAsync('sentinel', { qos: 1 })
        await pub.publishAsync('q/t', 'now', { qos: 1 })
        await pub.publishAsync('sentinel', 'last', { qos: 1 })
        await again.inbox.wait('sentinel')
        expect(again.inbox.messages).toStrictEqual([{ topic: 'sentinel', payload: 'last', qos: 1, retain: false }])
        await Promise.all([pub.endAsync(), again.client.endAsync()])
      })

      describe('shared subscriptions [MQTT-4.8.2]', () => {
        function startShared (): Promise<string> {
          const dir = mkdtempSync(join(tmpdir(), 'aedes-store-'))
          dirs.push(dir)
          return start({ ...options(dir), sharedSubscriptions: true })
        }

        it('gives each message to one member of the group, in turn, and every message to a plain subscriber; no retained ones', async () => {
          const url = await startShared()
          const a = await resume(url, { protocolVersion: 5, clientId: 'a' })
          const b = await resume(url, { protocolVersion: 4, clientId: 'b' })
          const all = await resume(url, { protocolVersion: 5, clientId: 'all' })
          const pub = await connect(url, { protocolVersion: 5 })
          await pub.publishAsync('s/retained', 'old', { qos: 1, retain: true })
          expect(await subscribeCodes(a.client, ['$share/workers/s/#'])).toStrictEqual([1])
          expect(await subscribeCodes(b.client, ['$share/workers/s/#'])).toStrictEqual([1])
          await all.client.subscribeAsync('s/#', { qos: 1 })
          await all.inbox.wait('s/retained')
          for (let i = 0; i < 10; i++) await pub.publishAsync(`s/${i}`, String(i), { qos: 1 })
          await all.inbox.wait((m) => m.topic === 's/9')
          await expect.poll(() => a.inbox.messages.length + b.inbox.messages.length).toBe(10)
          const got = [...a.inbox.messages, ...b.inbox.messages].map((m) => m.payload).sort((x, y) => Number(x) - Number(y))
          expect(got).toStrictEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
          expect(a.inbox.messages).toHaveLength(5)
          expect(b.inbox.messages).toHaveLength(5)
          expect([...a.inbox.messages, ...b.inbox.messages].every((m) => m.qos === 1 && !m.retain)).toBe(true)
          // A member that leaves gets no more; the other gets them all.
          await a.client.unsubscribeAsync('$share/workers/s/#')
          for (let i = 10; i < 14; i++) await pub.publishAsync(`s/${i}`, String(i), { qos: 1 })
          await b.inbox.wait((m) => m.topic === 's/13')
          expect(b.inbox.messages.map((m) => m.topic).slice(5)).toStrictEqual(['s/10', 's/11', 's/12', 's/13'])
          expect(a.inbox.messages).toHaveLength(5)
          await Promise.all([a, b, all].map((c) => c.client.endAsync()).concat(pub.endAsync()))
        })

        it('queues a message for one of the group\'s persistent sessions when no member is connected', async () => {
          const url = await startShared()
          const session = (clientId: string): IClientOptions => ({ protocolVersion: 5, clientId, clean: false, properties: { sessionExpiryInterval: 3600 } })
          for (const id of ['w1', 'w2']) {
            const w = await connect(url, session(id))
            await w.subscribeAsync('$share/workers/job/+', { qos: 1 })
            await drop(w)
          }
          const pub = await connect(url, { protocolVersion: 5 })
          for (let i = 0; i < 4; i++) await pub.publishAsync(`job/${i}`, String(i), { qos: 1 })
          const w1 = await resume(url, session('w1'))
          const w2 = await resume(url, session('w2'))
          expect(w1.sessionPresent && w2.sessionPresent).toBe(true)
          await expect.poll(() => w1.inbox.messages.length + w2.inbox.messages.length).toBe(4)
          expect([...w1.inbox.messages, ...w2.inbox.messages].map((m) => m.payload).sort()).toStrictEqual(['0', '1', '2', '3'])
          // Restored with their sessions, both are members again.
          for (let i = 4; i < 8; i++) await pub.publishAsync(`job/${i}`, String(i), { qos: 1 })
          await expect.poll(() => w1.inbox.messages.length + w2.inbox.messages.length).toBe(8)
          expect(w1.inbox.messages.length).toBeGreaterThan(0)
          expect(w2.inbox.messages.length).toBeGreaterThan(0)
          await Promise.all([w1.client.endAsync(), w2.client.endAsync(), pub.endAsync()])
        })

        it('refuses a share name with a wildcard, or no filter, with 0x8F; advertises shared subscriptions; without the option, 0x9E as before', async () => {
          const url = await startShared()
          // mqtt.js checks filters itself: a raw client sends the bad ones.
          const raw = await rawConnect(url, { cmd: 'connect', protocolVersion: 5, clientId: 'raw', clean: true, keepalive: 0 })
          // Available is the default, so it is not sent [MQTT-3.2.2.3.15].
          const connack = await raw.next((p) => p.cmd === 'connack') as { properties?: { sharedSubscriptionAvailable?: boolean } }
          expect(connack.properties?.sharedSubscriptionAvailable).toBeUndefined()
          raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: ['$share/a+b/x', '$share/only', '$share/ok/x'].map((topic) => ({ topic, qos: 1 })) })
          expect((await raw.next((p) => p.cmd === 'suback')).granted).toStrictEqual([0x8F, 0x8F, 1])
          raw.socket.destroy()
          await new Promise<void>((resolve) => broker!.close(() => resolve()))
          await new Promise<void>((resolve) => server!.close(() => resolve()))
          const offDir = mkdtempSync(join(tmpdir(), 'aedes-store-'))
          dirs.push(offDir)
          const off = await start(options(offDir))
          const plain = await rawConnect(off, { cmd: 'connect', protocolVersion: 5, clientId: 'raw', clean: true, keepalive: 0 })
          const refused = await plain.next((p) => p.cmd === 'connack') as { properties?: { sharedSubscriptionAvailable?: boolean } }
          expect(refused.properties?.sharedSubscriptionAvailable).toBe(false)
          plain.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/ok/x', qos: 1 }] })
          expect((await plain.next((p) => p.cmd === 'suback')).granted).toStrictEqual([0x9E])
          plain.socket.destroy()
        })
      })
    })
  }
})
