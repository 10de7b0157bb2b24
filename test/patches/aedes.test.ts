import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Aedes, type AedesOptions } from 'aedes'
import type { IDisconnectPacket } from 'mqtt'
import { connect, Inbox, publishAck } from '../helpers/mqtt.ts'

/**
 * The aedes 2.0.0-beta.1 patch (patches/aedes+2.0.0-beta.1.patch), on plain aedes with its
 * in-memory store, as it would be offered upstream.
 */
describe('patched aedes', () => {
  let broker: Aedes | undefined
  let server: Server | undefined
  afterEach(async () => {
    await new Promise<void>((resolve) => server ? server.close(() => resolve()) : resolve())
    await new Promise<void>((resolve) => broker ? broker.close(() => resolve()) : resolve())
    broker = undefined
    server = undefined
  })

  async function start (opts: AedesOptions = {}): Promise<string> {
    broker = await Aedes.createBroker(opts)
    server = createServer(broker.handle)
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    return `mqtt://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  }

  it('sends a QoS 1 PUBACK only after broker.publish has called back', async () => {
    let release: () => void = () => {}
    let reached: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    const publishing = new Promise<void>((resolve) => { reached = resolve })
    const url = await start({ published: (packet, _client, done) => { if (packet.topic === 'slow') { reached(); void held.then(() => done()) } else done() } })
    const c = await connect(url, { protocolVersion: 5 })
    let acked = false
    const ack = publishAck(c, 'slow', 'x').then((a) => { acked = true; return a })
    await publishing
    // A PUBACK written before the publish reached its last step would be on the wire ahead of this SUBACK.
    await c.subscribeAsync('other', { qos: 1 })
    expect(acked).toBe(false)
    release()
    expect(await ack).toStrictEqual({ reasonCode: 0 })
    await c.endAsync()
  })

  it('does not acknowledge a publish it could not store: 3.1.1 is closed, 5 gets DISCONNECT 0x80', async () => {
    const url = await start({ published: (packet, _client, done) => done(packet.topic === 'fails' ? new Error('store down') : null) })
    const v5 = await connect(url, { protocolVersion: 5 })
    const disconnect = new Promise<IDisconnectPacket>((resolve) => v5.once('disconnect', resolve))
    let acked = false
    v5.publish('fails', 'x', { qos: 1 }, () => { acked = true })
    expect((await disconnect).reasonCode).toBe(0x80)
    const v3 = await connect(url, { protocolVersion: 4 })
    const closed = new Promise<void>((resolve) => v3.once('close', () => resolve()))
    v3.publish('fails', 'x', { qos: 1 }, () => { acked = true })
    await closed
    expect(acked).toBe(false)
    v5.end(true)
    v3.end(true)
  })

  it('answers a refused MQTT 5 publish with the reason code the hook chose, and its reason string', async () => {
    const url = await start({
      authorizePublish: (_client, packet, done) => {
        if (packet.topic === 'bad') return done(Object.assign(new Error('payload is not JSON'), { reasonCode: 0x99 }))
        if (packet.topic === 'odd') return done(Object.assign(new Error('not for you'), { reasonCode: 0x04 }))
        if (packet.topic === 'plain') return done(new Error('no'))
        done(null)
      }
    })
    const c = await connect(url, { protocolVersion: 5 })
    expect(await publishAck(c, 'bad', 'x')).toStrictEqual({ reasonCode: 0x99, reasonString: 'payload is not JSON' })
    // A code that is not a PUBACK refusal falls back to 0x87, as does an error with none.
    expect(await publishAck(c, 'odd', 'x')).toStrictEqual({ reasonCode: 0x87, reasonString: 'not for you' })
    expect(await publishAck(c, 'plain', 'x')).toStrictEqual({ reasonCode: 0x87, reasonString: 'no' })
    expect(c.connected).toBe(true)
    await c.endAsync()
  })

  it('disconnects, without a PUBACK, an MQTT 5 client whose publish the hook could not take (err.disconnect)', async () => {
    const url = await start({ authorizePublish: (_client, _packet, done) => done(Object.assign(new Error('ledger down'), { disconnect: true })) })
    const c = await connect(url, { protocolVersion: 5 })
    const disconnect = new Promise<IDisconnectPacket>((resolve) => c.once('disconnect', resolve))
    let acked = false
    c.publish('t', 'x', { qos: 1 }, () => { acked = true })
    expect((await disconnect).reasonCode).toBe(0x80)
    expect(acked).toBe(false)
    c.end(true)
  })

  it('does not send retained $ topics to a subscription that starts with a wildcard [MQTT-4.7.2-1]', async () => {
    const url = await start()
    const pub = await connect(url)
    // Clients may not publish on $SYS; the broker does (as aedes-stats does, retained).
    await new Promise<void>((resolve, reject) => broker!.publish({ cmd: 'publish', topic: '$SYS/x/uptime', payload: Buffer.from('1'), qos: 1, retain: true, dup: false }, (err) => err ? reject(err) : resolve()))
    await pub.publishAsync('plain/topic', '2', { qos: 1, retain: true })
    const wild = await connect(url)
    const wildInbox = new Inbox(wild)
    await wild.subscribeAsync(['#', '+/x/uptime'], { qos: 1 })
    await wildInbox.wait('plain/topic')
    const sys = await connect(url)
    const sysInbox = new Inbox(sys)
    await sys.subscribeAsync(['$SYS/#', '#'], { qos: 1 })
    await sysInbox.wait('$SYS/x/uptime')
    await sysInbox.wait('plain/topic')
    // The wildcard subscriber was given plain/topic after the $SYS message would have come (topics stream in key order).
    expect(wildInbox.messages.map((m) => m.topic)).toStrictEqual(['plain/topic'])
    await Promise.all([pub.endAsync(), wild.endAsync(), sys.endAsync()])
  })
})
