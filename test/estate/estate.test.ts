import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ThingState } from '#contract'
import { Mirror } from '#client'
import { connect as connectNats } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, connectInbox } from '../helpers/mqtt.ts'
import { startNatsCluster, type NatsCluster } from '../helpers/nats.ts'
import { doorFact, FRONT_DOOR, idsOf, linked, publishDoor, startHouse, USERS, type House } from './houses.ts'

describe('the estate: two houses linked by a 3-node JetStream cluster', () => {
  let cluster: NatsCluster
  let grandma: House
  let family: House
  // Kept across a restart of grandma's hub.
  const grandmaDir = mkdtempSync(join(tmpdir(), 'homefacts-grandma-'))

  beforeAll(async () => {
    cluster = await startNatsCluster(USERS)
    grandma = await startHouse(cluster, 'grandma', { follow: 'family', dir: grandmaDir })
    family = await startHouse(cluster, 'family', { follow: 'grandma:home/+/front-door,grandma:household/+/presence' })
    await Promise.all([linked(grandma), linked(family)])
  }, 60_000)

  afterAll(async () => {
    await family?.stop()
    await grandma?.stop()
    await cluster?.close()
    rmSync(grandmaDir, { recursive: true, force: true })
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

  it('shares only its own facts: a fact that came from another house is not sent on', async () => {
    const kitchen = await connect(family.anonymousUrl, { clientId: 'family-door' })
    const { client: watcher, inbox } = await connectInbox(grandma.anonymousUrl, { clientId: 'grandma-watcher' })
    await watcher.subscribeAsync('sites/family/home/+/+/fact/+', { qos: 1 })
    const back = doorFact(1, 'home/kitchen/back-door')
    await publishDoor(kitchen, back)
    await inbox.wait('sites/family/home/kitchen/back-door/fact/opened', 1, 10_000)
    const subjects = Object.keys((await grandma.estate.outbox.streamInfo({ subjects: true })).state.subjects ?? {})
    expect(subjects.length).toBeGreaterThan(0)
    expect(subjects.filter((s) => !s.startsWith('hf.facts.grandma.home.'))).toStrictEqual([])
    await Promise.all([kitchen.endAsync(), watcher.endAsync()])
  })

  it('sends its facts again from its ledger when the stream lost them, and the family gets none twice', async () => {
    const { client: watcher, inbox } = await connectInbox(family.anonymousUrl, { clientId: 'family-resend-watcher' })
    await watcher.subscribeAsync('sites/grandma/home/+/+/fact/+', { qos: 1 })
    const nc = await connectNats({ servers: cluster.servers.split(','), user: 'grandma', pass: USERS[0]!.password })
    const jsm = await jetstreamManager(nc)
    const before = (await grandma.estate.outbox.streamInfo()).state.messages
    expect(before).toBeGreaterThan(0)
    // The stream is gone (what a power cut of a majority of the nodes can do to its last writes, here all of it).
    await grandma.stop()
    await jsm.streams.delete('homefacts-grandma')
    grandma = await startHouse(cluster, 'grandma', { follow: 'family', dir: grandmaDir })
    await linked(grandma)
    const after = doorFact(1001)
    const device = await connect(grandma.anonymousUrl, { clientId: 'grandma-door-3' })
    await publishDoor(device, after)
    await inbox.wait((m) => (JSON.parse(m.payload) as { id: string }).id === after.id, 1, 15_000)
    expect((await grandma.estate.outbox.streamInfo()).state.messages).toBe(before + 1)
    expect(idsOf(inbox.messages)).toStrictEqual([after.id])
    await Promise.all([watcher.endAsync(), device.endAsync(), nc.close()])
  }, 60_000)

  it('makes its stream again and sends its facts again from its ledger when the stream is lost while it runs', async () => {
    const { client: watcher, inbox } = await connectInbox(family.anonymousUrl, { clientId: 'family-running-watcher' })
    await watcher.subscribeAsync('sites/grandma/home/+/+/fact/+', { qos: 1 })
    const nc = await connectNats({ servers: cluster.servers.split(','), user: 'grandma', pass: USERS[0]!.password })
    const jsm = await jetstreamManager(nc)
    const before = (await grandma.estate.outbox.streamInfo()).state.messages
    await jsm.streams.delete('homefacts-grandma')
    const next = doorFact(2001)
    const device = await connect(grandma.anonymousUrl, { clientId: 'grandma-door-4' })
    await publishDoor(device, next)
    await inbox.wait((m) => (JSON.parse(m.payload) as { id: string }).id === next.id, 1, 20_000)
    expect((await grandma.estate.outbox.streamInfo()).state.messages).toBe(before + 1)
    expect(idsOf(inbox.messages)).toStrictEqual([next.id])
    await Promise.all([watcher.endAsync(), device.endAsync(), nc.close()])
  }, 60_000)
})
