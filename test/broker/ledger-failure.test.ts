import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { IDisconnectPacket } from 'mqtt'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'

describe('when the ledger cannot store a fact', () => {
  let t: TestHub
  beforeAll(async () => { t = await startTestHub() })
  afterAll(() => t?.stop())

  it('does not acknowledge or deliver it, disconnects the publisher (0x80 on MQTT 5), and takes the fact when it is sent again', async () => {
    const creds = await t.addUser({ username: 'svc', role: 'service' })
    const watcher = await connect(t.mqttUrl, creds)
    const inbox = new Inbox(watcher)
    await watcher.subscribeAsync('home/#', { qos: 1 })
    // Reconnecting clients: mqtt.js sends an unacknowledged QoS 1 publish again on its next connection.
    const v5 = await connect(t.mqttUrl, { ...creds, clientId: 'v5-pub', protocolVersion: 5, reconnectPeriod: 100 })
    const v3 = await connect(t.mqttUrl, { ...creds, clientId: 'v3-pub', protocolVersion: 4, reconnectPeriod: 100 })
    const fact5 = cupEmpty(1)
    const fact3 = cupEmpty(2)
    await t.hub.ledger.close()
    try {
      const disconnected = new Promise<IDisconnectPacket>((resolve) => v5.once('disconnect', resolve))
      const acked5 = v5.publishAsync('home/kitchen/lily-cup/fact/empty', JSON.stringify(fact5), { qos: 1 })
      expect((await disconnected).reasonCode).toBe(0x80)
      const closed = new Promise<void>((resolve) => v3.once('close', () => resolve()))
      const acked3 = v3.publishAsync('home/kitchen/lily-cup/fact/empty', JSON.stringify(fact3), { qos: 1 })
      await closed
      expect(inbox.on('home/kitchen/lily-cup/fact/empty')).toStrictEqual([])
      t.hub.ledger.open()
      // Sent again on reconnect, now acknowledged, delivered and in the ledger.
      await Promise.all([acked5, acked3])
      const got = await inbox.wait('home/kitchen/lily-cup/fact/empty', 2)
      expect(got.map((m) => JSON.parse(m.payload).id).sort()).toStrictEqual([fact5.id, fact3.id].sort())
      expect(t.hub.ledger.read({ topic: 'home/kitchen/lily-cup/fact/empty' }).map((e) => e.fact.id).sort()).toStrictEqual([fact5.id, fact3.id].sort())
    } finally {
      await v5.endAsync()
      await v3.endAsync()
      await watcher.endAsync()
    }
  })
})
