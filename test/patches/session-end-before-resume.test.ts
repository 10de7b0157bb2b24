import { describe, expect, it } from 'vitest'
import AsyncMemory from 'aedes-persistence/asyncPersistence.js'
import type { AedesOptions } from 'aedes'
import { connect } from '../helpers/mqtt.ts'
import { rawConnect } from '../helpers/raw-mqtt.ts'
import { drop, gate, resume, onEveryStore, startAedes } from './plain-aedes.ts'

type Persistence = NonNullable<AedesOptions['persistence']>

/**
 * patches/aedes+2.0.0-beta.1+011+session-end-before-resume.patch: a session that ended with its
 * connection is gone for the next connection with its client id, even while it is being wiped
 * [MQTT-3.1.2-23].
 */
describe('a session that ended (patched aedes)', () => {
  it('is not resumed by a connection that comes while it is being wiped', async () => {
    const wiped = gate()
    const wiping = gate()
    class SlowWipe extends AsyncMemory {
      override async cleanSubscriptions (client: Parameters<AsyncMemory['cleanSubscriptions']>[0]): Promise<void> {
        if (client.id === 'brief') {
          wiping.open()
          await wiped.wait
        }
        return super.cleanSubscriptions(client)
      }
    }
    let reconnecting = false
    const a = await startAedes({
      persistence: new SlowWipe() as unknown as Persistence,
      // The wipe ends only once the new CONNECT's own steps have begun.
      preConnect: (_client, _packet, done) => {
        done(null, true)
        if (reconnecting) setImmediate(wiped.open)
      }
    })
    // A session kept on disk, ended by its DISCONNECT (Session Expiry 0 there) [MQTT-3.14.2-2].
    const first = await rawConnect(a.url, { cmd: 'connect', protocolVersion: 5, clientId: 'brief', clean: false, keepalive: 0, properties: { sessionExpiryInterval: 600 } })
    first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q/t', qos: 1 }] })
    await first.next((p) => p.cmd === 'suback')
    first.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } })
    await wiping.wait
    reconnecting = true
    const again = await resume(a.url, { protocolVersion: 5, clientId: 'brief', clean: false })
    expect(again.sessionPresent).toBe(false)
    await again.client.endAsync()
  })

  onEveryStore((start) => {
    it('has no session for a client whose last connection had no Session Expiry, and restores none of its subscriptions [MQTT-3.1.2-23]', async () => {
      const a = await start()
      const url = a.url
      const first = await connect(url, { protocolVersion: 5, clientId: 'brief', clean: false })
      await first.subscribeAsync('q/t', { qos: 1 })
      await drop(a.broker, first)
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
  })
})
