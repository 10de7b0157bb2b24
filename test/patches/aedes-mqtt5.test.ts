import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Aedes, type AedesOptions } from 'aedes'
import type { IPublishPacket } from 'mqtt'
import { connect } from '../helpers/mqtt.ts'

/**
 * The MQTT 5 parts of the aedes 2.0.0-beta.1 patch (patches/aedes+2.0.0-beta.1.patch), on plain
 * aedes with its in-memory store, as they would be offered upstream.
 */
describe('patched aedes, MQTT 5', () => {
  let broker: Aedes | undefined
  let server: Server | undefined
  afterEach(async () => {
    // The broker first: it closes the connections a failed test left open, which server.close() waits for.
    await new Promise<void>((resolve) => broker ? broker.close(() => resolve()) : resolve())
    await new Promise<void>((resolve) => server ? server.close(() => resolve()) : resolve())
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

  function nextPublish (client: Awaited<ReturnType<typeof connect>>, topic: string): Promise<IPublishPacket> {
    return new Promise((resolve) => {
      client.on('message', (t: string, _payload: Buffer, packet: IPublishPacket) => { if (t === topic) resolve(packet) })
    })
  }

  it('forwards only the PUBLISH properties of a will, not its Will Delay Interval [MQTT-3.1.3-9]', async () => {
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
})
