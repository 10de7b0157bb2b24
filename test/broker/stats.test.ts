import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'

describe('broker stats under $SYS', () => {
  let t: TestHub
  beforeAll(async () => { t = await startTestHub({ flags: { statsSeconds: 1 } }) })
  afterAll(() => t?.stop())

  it('publishes client counts and the homefacts fact counters to admins', async () => {
    const admin = await connect(t.mqttUrl, await t.addUser({ username: 'ops', role: 'admin' }))
    const inbox = new Inbox(admin)
    await admin.publishAsync('home/kitchen/lily-cup/fact/empty', JSON.stringify(cupEmpty(1)), { qos: 1 })
    await admin.publishAsync('home/kitchen/lily-cup/fact/empty', 'broken', { qos: 1 })
    await admin.subscribeAsync('$SYS/#', { qos: 0 })
    const id = t.hub.broker.aedes.id
    const [accepted] = await inbox.wait((m) => m.topic === `$SYS/${id}/homefacts/facts/accepted` && m.payload === '1')
    expect(accepted).toStrictEqual({ topic: `$SYS/${id}/homefacts/facts/accepted`, payload: '1', qos: 0, retain: false })
    await inbox.wait((m) => m.topic === `$SYS/${id}/homefacts/facts/deadlettered` && m.payload === '1')
    await inbox.wait((m) => m.topic === `$SYS/${id}/homefacts/ledger/offset` && m.payload === '1')
    // aedes-stats retains its topics: the retained value on SUBSCRIBE may predate this client; a live one counts it.
    const [clients] = await inbox.wait((m) => m.topic === `$SYS/${id}/clients/total` && !m.retain)
    expect(Number(clients!.payload)).toBeGreaterThanOrEqual(2)
    await admin.endAsync()
  })

  it('never gives a # subscriber the retained $SYS stats [MQTT-4.7.2-1]', async () => {
    const admin = await connect(t.mqttUrl, await t.addUser({ username: 'ops-2', role: 'admin' }))
    const inbox = new Inbox(admin)
    // Stats have been published (and retained by aedes-stats) by now.
    const sys = await connect(t.mqttUrl, await t.addUser({ username: 'ops-3', role: 'admin' }))
    const sysInbox = new Inbox(sys)
    await sys.subscribeAsync('$SYS/#', { qos: 0 })
    await sysInbox.wait((m) => m.topic.endsWith('/clients/total') && m.retain)
    await admin.subscribeAsync('#', { qos: 1 })
    // Retained messages come in topic order, and "$" sorts before "homefacts/": any $SYS one would be first.
    await inbox.wait('homefacts/hub/state')
    expect(inbox.messages.filter((m) => m.topic.startsWith('$'))).toStrictEqual([])
    await Promise.all([admin.endAsync(), sys.endAsync()])
  })
})
