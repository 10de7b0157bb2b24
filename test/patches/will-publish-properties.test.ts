import { describe, expect, it } from 'vitest'
import { connect, nextPublish } from '../helpers/mqtt.ts'
import { startAedes } from './plain-aedes.ts'

/** patches/aedes+2.0.0-beta.1+005+will-publish-properties.patch. */
describe('will PUBLISH properties (patched aedes)', () => {
  it('forwards only the PUBLISH properties of a will, not its Will Delay Interval (MQTT 5 §3.1.3.2)', async () => {
    const a = await startAedes()
    const url = a.url
    const sub = await connect(url, { protocolVersion: 5 })
    await sub.subscribeAsync('dev/status', { qos: 1 })
    const will = nextPublish(sub, 'dev/status')
    // What the will's PUBLISH must carry: every property but the Will Delay Interval (§3.1.3.2).
    const sent = {
      payloadFormatIndicator: true,
      messageExpiryInterval: 600,
      contentType: 'text/plain',
      responseTopic: 'dev/reply',
      correlationData: Buffer.from('c1'),
      userProperties: { kind: 'availability' }
    }
    const dev = await connect(url, {
      protocolVersion: 5,
      will: {
        topic: 'dev/status',
        payload: Buffer.from('offline'),
        qos: 1,
        retain: false,
        // No Session Expiry, so the session ends at once and the will goes with it.
        properties: { willDelayInterval: 30, ...sent }
      }
    })
    dev.stream.destroy()
    const packet = await will
    expect(packet.payload.toString()).toBe('offline')
    // toEqual: mqtt-packet decodes user properties into a prototype-less object. No other key may be there.
    expect(Object.keys(packet.properties ?? {}).sort()).toStrictEqual(['contentType', 'correlationData', 'messageExpiryInterval', 'payloadFormatIndicator', 'responseTopic', 'userProperties'])
    expect(packet.properties).toEqual(sent)
    await sub.endAsync()
  })
})
