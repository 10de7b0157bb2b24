import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'

describe('when the ledger cannot store a fact', () => {
  let t: TestHub
  beforeAll(async () => { t = await startTestHub() })
  afterAll(() => t?.stop())

  it('does not acknowledge or deliver it, so the publisher keeps it to send again', async () => {
    const creds = await t.addUser({ username: 'svc', role: 'service' })
    const watcher = await connect(t.mqttUrl, creds)
    const inbox = new Inbox(watcher)
    await watcher.subscribeAsync('home/#', { qos: 1 })
    const v5 = await connect(t.mqttUrl, { ...creds, clientId: 'v5-pub', protocolVersion: 5 })
    const v3 = await connect(t.mqttUrl, { ...creds, clientId: 'v3-pub', protocolVersion: 4 })
    await t.hub.ledger.close()
    try {
      const fact = cupEmpty(1)
      await expect(v5.publishAsync('home/kitchen/lily-cup/fact/empty', JSON.stringify(fact), { qos: 1 })).rejects.toMatchObject({ code: 0x87 })
      expect(v5.connected).toBe(true)
      const closed = new Promise<void>((resolve) => v3.once('close', () => resolve()))
      v3.publish('home/kitchen/lily-cup/fact/empty', JSON.stringify(cupEmpty(2)), { qos: 1 })
      await closed
      // A state after the failure still flows: only facts need the ledger.
      await v5.publishAsync('home/kitchen/lily-cup/state', JSON.stringify({ value: 'empty', seq: 1, since: fact.time, factId: fact.id }), { qos: 1, retain: true })
      await inbox.wait('home/kitchen/lily-cup/state')
      expect(inbox.on('home/kitchen/lily-cup/fact/empty')).toStrictEqual([])
    } finally {
      t.hub.ledger.open()
      await v5.endAsync()
      v3.end(true)
      await watcher.endAsync()
    }
  })
})
