import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ThingState } from '#contract'
import { Mirror } from '#client'
import { connect, connectInbox } from '../helpers/mqtt.ts'
import { startNatsCluster, type NatsCluster } from '../helpers/nats.ts'
import { doorFact, FRONT_DOOR, idsOf, linked, publishDoor, startHouse, USERS, type House } from './houses.ts'

describe('the estate: two houses linked by a 3-node JetStream cluster', () => {
  let cluster: NatsCluster
  let grandma: House
  let family: House

  beforeAll(async () => {
    cluster = await startNatsCluster(USERS)
    grandma = await startHouse(cluster, 'grandma')
    family = await startHouse(cluster, 'family', { follow: 'grandma:home/+/front-door,grandma:household/+/presence' })
    await Promise.all([linked(grandma), linked(family)])
  }, 60_000)

  afterAll(async () => {
    await family?.stop()
    await grandma?.stop()
    await cluster?.close()
  })

  it('brings grandma\'s facts to the family\'s subscribers under sites/grandma/, each once and in her order, and a new subscriber sees her front door\'s retained state', async () => {
    const { client: watcher, inbox } = await connectInbox(family.anonymousUrl, { clientId: 'family-watcher' })
    await watcher.subscribeAsync('sites/grandma/home/+/+/fact/+', { qos: 1 })
    const device = await connect(grandma.anonymousUrl, { clientId: 'grandma-door' })
    const facts = Array.from({ length: 20 }, (_, i) => doorFact(i + 1))
    for (const f of facts) await publishDoor(device, f)

    const got = await inbox.wait((m) => m.topic.startsWith('sites/grandma/'), 20, 10_000)
    expect(idsOf(got)).toStrictEqual(facts.map((f) => f.id))
    expect(got[0]).toStrictEqual({
      topic: 'sites/grandma/home/hall/front-door/fact/opened',
      payload: JSON.stringify({ ...facts[0], subject: `sites/grandma/${FRONT_DOOR}` }),
      qos: 1,
      retain: false
    })

    const { client: late, inbox: lateInbox } = await connectInbox(family.anonymousUrl, { clientId: 'family-late' })
    await late.subscribeAsync('sites/grandma/home/hall/front-door/state', { qos: 1 })
    const last = facts.at(-1)!
    const [state] = await lateInbox.wait((m) => m.retain && (JSON.parse(m.payload) as ThingState).factId === last.id, 1, 10_000)
    expect(state).toStrictEqual({
      topic: 'sites/grandma/home/hall/front-door/state',
      payload: JSON.stringify({ value: 'closed', seq: 20, since: last.time, factId: last.id }),
      qos: 1,
      retain: true
    })
    // Each once: nothing more came.
    expect(inbox.messages.filter((m) => m.topic.startsWith('sites/grandma/home/hall/front-door/fact/')).length).toBe(20)
    await Promise.all([watcher.endAsync(), late.endAsync(), device.endAsync()])
  })

  it('lets the family\'s retained-state check skip a fact that was resolved at grandma\'s', async () => {
    const device = await connect(grandma.anonymousUrl, { clientId: 'grandma-door-2' })
    const opened = doorFact(101)
    const closed = doorFact(102)
    await publishDoor(device, opened)
    await publishDoor(device, closed)
    const client = await connect(family.anonymousUrl, { clientId: 'family-mirror', protocolVersion: 5 })
    const mirror = new Mirror({ client, filters: ['sites/+/home/+/+/state'] })
    await mirror.start()
    const mirrored = { ...opened, subject: `sites/grandma/${FRONT_DOOR}` }
    const ev = await mirror.waitFor(() => { const e = mirror.evidence(mirrored); return e.verdict === 'resolved' ? e : undefined }, { timeoutMs: 10_000 })
    expect(ev?.verdict).toBe('resolved')
    expect(ev?.state?.factId).toBe(closed.id)
    await mirror.stop()
    await Promise.all([client.endAsync(), device.endAsync()])
  })
})
