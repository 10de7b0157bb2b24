import { describe, expect, it } from 'vitest'
import { connect, publishAck } from '../helpers/mqtt.ts'
import { rawConnect } from '../helpers/raw-mqtt.ts'
import { startAedes } from './plain-aedes.ts'

/**
 * patches/aedes+2.0.0-beta.1+003+publish-refusal-reason-codes.patch and
 * aedes+2.0.0-beta.1+004+connack-reason-codes.patch: a hook's refusal reaches an MQTT 5 client
 * with the reason code the hook chose and its reason string.
 */
describe('refusal reason codes (patched aedes)', () => {
  it('answers a refused MQTT 5 publish with the reason code the hook chose, and its reason string', async () => {
    const a = await startAedes({
      authorizePublish: (_client, packet, done) => {
        if (packet.topic === 'bad') return done(Object.assign(new Error('payload is not JSON'), { reasonCode: 0x99 }))
        if (packet.topic === 'busy') return done(Object.assign(new Error('too fast'), { reasonCode: 0x97 }))
        if (packet.topic === 'odd') return done(Object.assign(new Error('not for you'), { reasonCode: 0x04 }))
        if (packet.topic === 'plain') return done(new Error('no'))
        done(null)
      }
    })
    const c = await connect(a.url, { protocolVersion: 5 })
    expect(await publishAck(c, 'bad', 'x')).toStrictEqual({ reasonCode: 0x99, reasonString: 'payload is not JSON' })
    expect(await publishAck(c, 'busy', 'x')).toStrictEqual({ reasonCode: 0x97, reasonString: 'too fast' })
    // A code that is not a PUBACK refusal falls back to 0x87, as does an error with none.
    expect(await publishAck(c, 'odd', 'x')).toStrictEqual({ reasonCode: 0x87, reasonString: 'not for you' })
    expect(await publishAck(c, 'plain', 'x')).toStrictEqual({ reasonCode: 0x87, reasonString: 'no' })
    expect(c.connected).toBe(true)
    await c.endAsync()
  })

  it('refuses an MQTT 5 CONNECT with the reason code and string the authenticate hook chose; MQTT 3.1.1 gets its return code', async () => {
    const a = await startAedes({
      authenticate: (_client, _username, _password, done) => done(Object.assign(new Error('quota'), { returnCode: 3, reasonCode: 0x97, reasonString: 'HF_QUOTA: too many connections' }), false)
    })
    const v5 = await rawConnect(a.url, { cmd: 'connect', protocolVersion: 5, clientId: 'c5', clean: true, keepalive: 0 })
    expect(await v5.next((p) => p.cmd === 'connack')).toMatchObject({ reasonCode: 0x97, properties: { reasonString: 'HF_QUOTA: too many connections' } })
    const v3 = await rawConnect(a.url, { cmd: 'connect', protocolVersion: 4, clientId: 'c4', clean: true, keepalive: 0 })
    expect(await v3.next((p) => p.cmd === 'connack')).toMatchObject({ returnCode: 3 })
    v5.socket.destroy()
    v3.socket.destroy()
  })
})
