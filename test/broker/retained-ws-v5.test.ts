import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closedByBroker, startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, connectInbox, Inbox } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'

const state = (seq: number, factId: string) => JSON.stringify({ value: 'empty', seq, since: '2026-11-29T14:00:00.000Z', factId })

describe('retained state, WebSocket and MQTT 5', () => {
  let t: TestHub
  let creds: { username: string, password: string }
  beforeAll(async () => {
    t = await startTestHub()
    creds = await t.addUser({ username: 'house', role: 'service' })
  })
  afterAll(() => t?.stop())

  it('delivers the retained state to a subscriber that arrives later', async () => {
    const pub = await connect(t.mqttUrl, creds)
    const payload = state(42, cupEmpty(42).id)
    await pub.publishAsync('home/kitchen/lily-cup/state', payload, { qos: 1, retain: true })
    await pub.endAsync()
    const late = await connect(t.mqttUrl, creds)
    const inbox = new Inbox(late)
    await late.subscribeAsync('home/+/+/state', { qos: 1 })
    const [msg] = await inbox.wait('home/kitchen/lily-cup/state')
    expect(msg).toStrictEqual({ topic: 'home/kitchen/lily-cup/state', payload, qos: 1, retain: true })
    await late.endAsync()
  })

  it('delivers every retained state live, even back to back with facts on one connection', async () => {
    const sub = await connect(t.mqttUrl, creds)
    const inbox = new Inbox(sub)
    await sub.subscribeAsync('home/pantry/+/#', { qos: 1 })
    const pub = await connect(t.mqttUrl, creds)
    const sent: string[] = []
    for (let seq = 1; seq <= 5; seq++) {
      const fact = cupEmpty(seq, 'pantry', 'jar')
      // Not awaited: both publishes go out in one write, as a device that does not wait would send them.
      pub.publish('home/pantry/jar/fact/empty', JSON.stringify(fact), { qos: 1 })
      pub.publish('home/pantry/jar/state', state(seq, fact.id), { qos: 1, retain: true })
      sent.push('home/pantry/jar/fact/empty', 'home/pantry/jar/state')
    }
    const got = await inbox.wait((m) => m.topic.startsWith('home/pantry/jar/'), 10)
    expect(got.map((m) => m.topic)).toStrictEqual(sent)
    expect(got.filter((m) => m.topic.endsWith('/state')).map((m) => JSON.parse(m.payload).seq)).toStrictEqual([1, 2, 3, 4, 5])
    await pub.endAsync()
    await sub.endAsync()
  })

  it('delivers facts and states in order to a live subscriber while a persistent session queues the facts', async () => {
    // A persistent session on facts makes the broker store each fact for it before delivery;
    // the states behind them must not overtake the facts (and be dropped) on the way out.
    const daddy = await connect(t.mqttUrl, { ...creds, clientId: 'daddy-session', clean: false })
    await daddy.subscribeAsync('home/+/+/fact/+', { qos: 1 })
    const daddyGone = closedByBroker(t, 'daddy-session')
    await daddy.endAsync()
    await daddyGone
    const live = await connect(t.mqttUrl, creds)
    const inbox = new Inbox(live)
    await live.subscribeAsync('home/larder/+/#', { qos: 1 })
    const pub = await connect(t.mqttUrl, creds)
    const sent: string[] = []
    for (let seq = 1; seq <= 10; seq++) {
      const fact = cupEmpty(seq, 'larder', 'jug')
      pub.publish('home/larder/jug/fact/empty', JSON.stringify(fact), { qos: 1 })
      pub.publish('home/larder/jug/state', state(seq, fact.id), { qos: 1, retain: true })
      sent.push(`fact ${seq}`, `state ${seq}`)
    }
    const got = await inbox.wait((m) => m.topic.startsWith('home/larder/jug/'), 20)
    expect(got.map((m) => `${m.topic.endsWith('/state') ? 'state' : 'fact'} ${JSON.parse(m.payload).seq}`)).toStrictEqual(sent)
    await pub.endAsync()
    await live.endAsync()
    const { client: back, inbox: queued } = await connectInbox(t.mqttUrl, { ...creds, clientId: 'daddy-session', clean: false })
    const facts = await queued.wait((m) => m.topic === 'home/larder/jug/fact/empty', 10)
    expect(facts.map((m) => JSON.parse(m.payload).seq)).toStrictEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    await back.endAsync()
  })

  it('serves MQTT over WebSocket with the same auth and contract', async () => {
    const ws = await connect(t.wsUrl, creds)
    const inbox = new Inbox(ws)
    await ws.subscribeAsync('home/+/+/fact/+', { qos: 1 })
    const fact = JSON.stringify(cupEmpty(1, 'bedroom', 'night-cup'))
    await ws.publishAsync('home/bedroom/night-cup/fact/empty', fact, { qos: 1 })
    const [msg] = await inbox.wait('home/bedroom/night-cup/fact/empty')
    expect(msg).toStrictEqual({ topic: 'home/bedroom/night-cup/fact/empty', payload: fact, qos: 1, retain: false })
    await ws.endAsync()
    await expect(connect(t.wsUrl, { username: 'house', password: 'wrong' })).rejects.toMatchObject({ code: 4 })
  })

  it('lets an MQTT 5 client publish a fact and receive it with retained state', async () => {
    const c = await connect(t.mqttUrl, { ...creds, clientId: 'v5-roundtrip', protocolVersion: 5 })
    const inbox = new Inbox(c)
    const fact = cupEmpty(7, 'hall', 'guest-cup')
    await c.publishAsync('home/hall/guest-cup/state', state(7, fact.id), { qos: 1, retain: true })
    await c.subscribeAsync(['home/hall/guest-cup/state', 'home/hall/guest-cup/fact/+'], { qos: 1 })
    const [retained] = await inbox.wait('home/hall/guest-cup/state')
    expect(retained).toStrictEqual({ topic: 'home/hall/guest-cup/state', payload: state(7, fact.id), qos: 1, retain: true })
    await c.publishAsync('home/hall/guest-cup/fact/empty', JSON.stringify(fact), { qos: 1 })
    const [got] = await inbox.wait('home/hall/guest-cup/fact/empty')
    expect(JSON.parse(got!.payload)).toStrictEqual(fact)
    await c.endAsync()
  })
})

describe('MQTT 5 sessions across a hub restart', () => {
  it('keeps a v5 session (subscriptions and queued QoS 1 facts) across a stop and start', async () => {
    let t = await startTestHub()
    const dir = t.dir
    const creds = await t.addUser({ username: 'dad-phone', role: 'member', member: 'daddy' })
    const pubCreds = await t.addUser({ username: 'cup', role: 'device', things: ['kitchen/lily-cup'] })
    const opts = { ...creds, clientId: 'dad-v5', protocolVersion: 5 as const, clean: false, properties: { sessionExpiryInterval: 3600 } }
    const phone = await connect(t.mqttUrl, opts)
    await phone.subscribeAsync('home/+/+/fact/+', { qos: 1 })
    const phoneGone = closedByBroker(t, 'dad-v5')
    await phone.endAsync()
    await phoneGone
    const cup = await connect(t.mqttUrl, pubCreds)
    const fact = JSON.stringify(cupEmpty(1))
    await cup.publishAsync('home/kitchen/lily-cup/fact/empty', fact, { qos: 1 })
    await cup.endAsync()
    await t.hub.stop()
    t = await startTestHub({ dir })
    try {
      const { client: back, inbox } = await connectInbox(t.mqttUrl, opts)
      const [msg] = await inbox.wait('home/kitchen/lily-cup/fact/empty')
      expect(msg).toStrictEqual({ topic: 'home/kitchen/lily-cup/fact/empty', payload: fact, qos: 1, retain: false })
      // The subscription itself survived: a new fact arrives without subscribing again.
      const cup2 = await connect(t.mqttUrl, pubCreds)
      const fact2 = JSON.stringify(cupEmpty(2))
      await cup2.publishAsync('home/kitchen/lily-cup/fact/empty', fact2, { qos: 1 })
      await inbox.wait((m) => m.payload === fact2)
      await cup2.endAsync()
      await back.endAsync()
    } finally {
      await t.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
