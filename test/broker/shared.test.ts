import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { IClientOptions } from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestHub, closedByBroker, type TestHub } from '../helpers/hub.ts'
import { connect, connectInbox, subscribeCodes } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'

let t: TestHub | null = null
const dirs: string[] = []
afterEach(async () => {
  await t?.stop()
  t = null
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const FACTS = '$share/notifiers/home/+/+/fact/+'

describe('shared subscriptions on the hub', () => {
  it('gives each fact to one replica of a service, and the ACL checks the filter inside $share', async () => {
    t = await startTestHub()
    const svc = await t.addUser({ username: 'notifier', role: 'service' })
    const dev = await t.addUser({ username: 'cups', role: 'device', things: ['kitchen/+'] })
    const replicas = await Promise.all(['n1', 'n2'].map((clientId) => connectInbox(t!.mqttUrl, { ...svc, protocolVersion: 5, clientId })))
    for (const r of replicas) expect(await subscribeCodes(r.client, [FACTS])).toStrictEqual([1])
    const device = await connect(t.mqttUrl, { ...dev, protocolVersion: 5 })
    expect(await subscribeCodes(device, ['$share/g/home/kitchen/lily-cup/#', '$share/g/shop/#'])).toStrictEqual([1, 0x87])
    const facts = Array.from({ length: 6 }, (_, i) => cupEmpty(i + 1))
    for (const f of facts) await device.publishAsync('home/kitchen/lily-cup/fact/empty', JSON.stringify(f), { qos: 1 })
    await expect.poll(() => replicas[0]!.inbox.messages.length + replicas[1]!.inbox.messages.length).toBe(6)
    const ids = replicas.flatMap((r) => r.inbox.messages.map((m) => (JSON.parse(m.payload) as { id: string }).id))
    expect(ids.sort()).toStrictEqual(facts.map((f) => f.id).sort())
    expect(replicas.map((r) => r.inbox.messages.length)).toStrictEqual([3, 3])
    await Promise.all([...replicas.map((r) => r.client.endAsync()), device.endAsync()])
  })

  it('queues facts for the group while every replica is away, across a hub restart, and delivers each once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homefacts-shared-'))
    dirs.push(dir)
    t = await startTestHub({ dir })
    const svc = await t.addUser({ username: 'notifier', role: 'service' })
    const dev = await t.addUser({ username: 'cups', role: 'device', things: ['kitchen/+'] })
    const session = (clientId: string): IClientOptions => ({ ...svc, protocolVersion: 5, clientId, clean: false, properties: { sessionExpiryInterval: 3600 } })
    for (const id of ['n1', 'n2']) {
      const r = await connect(t.mqttUrl, session(id))
      await r.subscribeAsync(FACTS, { qos: 1 })
      const closed = closedByBroker(t, id)
      await r.endAsync()
      await closed
    }
    await t.stop()
    t = await startTestHub({ dir })
    const device = await connect(t.mqttUrl, { ...dev, protocolVersion: 5 })
    const facts = Array.from({ length: 4 }, (_, i) => cupEmpty(i + 1))
    for (const f of facts) await device.publishAsync('home/kitchen/lily-cup/fact/empty', JSON.stringify(f), { qos: 1 })
    const back = await Promise.all(['n1', 'n2'].map((id) => connectInbox(t!.mqttUrl, session(id))))
    await expect.poll(() => back[0]!.inbox.messages.length + back[1]!.inbox.messages.length).toBe(4)
    const ids = back.flatMap((r) => r.inbox.messages.map((m) => (JSON.parse(m.payload) as { id: string }).id))
    expect(ids.sort()).toStrictEqual(facts.map((f) => f.id).sort())
    await Promise.all([...back.map((r) => r.client.endAsync()), device.endAsync()])
  })
})
