import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { type Fact } from '#contract'
import { makeFact } from '#client'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { loadNodePackage, nextError, nextMessage, type NodeHelper } from './nodes-helper.ts'

let hub: TestHub
let admin: MqttClient
let helper: NodeHelper
let nodes: ReturnType<typeof loadNodePackage>['nodes']
let creds: { username: string, password: string }

beforeAll(async () => {
  ({ helper, nodes } = loadNodePackage())
  hub = await startTestHub({ anonymous: true })
  creds = await hub.addUser({ username: 'nodered', role: 'nodered', members: ['mummy'] })
  admin = await connect(hub.anonymousUrl, { protocolVersion: 5 })
  await helper.startServer()
})

afterEach(async () => { await helper.unload() })

afterAll(async () => {
  await helper.stopServer()
  await admin?.endAsync()
  await hub?.stop()
})

const brokerNode = (): Record<string, unknown> => ({ id: 'b1', type: 'homefacts-broker', url: hub.mqttUrl, persistent: false })
const credentials = (): Record<string, unknown> => ({ b1: { username: creds.username, password: creds.password } })

let seq = 0
/** A device fact plus the retained state it sets, published as a device would (state after fact). */
async function doorOpened (thing: string, opts: { state?: boolean } = {}): Promise<Fact> {
  const fact = makeFact('door.opened', { subject: `home/hall/${thing}`, source: `devices/${thing}`, seq: ++seq, data: {} })
  await admin.publishAsync(`home/hall/${thing}/fact/opened`, JSON.stringify(fact), { qos: 1 })
  if (opts.state !== false) await setState(fact)
  return fact
}

async function setState (fact: Fact, value = 'open'): Promise<void> {
  await admin.publishAsync(`${fact.subject}/state`, JSON.stringify({ value, seq: fact.seq, since: fact.time, factId: fact.id }), { qos: 1, retain: true })
}

describe('fact in', () => {
  it('passes an open fact with its state and drops one the state has moved past', async () => {
    await helper.load([nodes.broker, nodes.factIn], [
      brokerNode(),
      { id: 'in', type: 'homefacts-fact-in', broker: 'b1', factType: 'door.opened', area: 'hall', thing: '+', wires: [['out']] },
      { id: 'out', type: 'helper' }
    ], credentials())
    const out = helper.getNode('out')
    const received: Record<string, unknown>[] = []
    out.on('input', (m) => received.push(m))
    const first = nextMessage(out)
    await waitSubscribed()
    // The state already names a later fact: the older one is resolved.
    const old = makeFact('door.opened', { subject: 'home/hall/back-door', source: 'devices/back-door', seq: 1, data: {} })
    await setState(makeFact('door.opened', { subject: 'home/hall/back-door', source: 'devices/back-door', seq: 2, data: {} }))
    await admin.publishAsync('home/hall/back-door/fact/opened', JSON.stringify(old), { qos: 1 })
    const open = await doorOpened('front-door')
    const msg = await first
    expect(received).toHaveLength(1)
    expect(msg.payload).toStrictEqual(JSON.parse(JSON.stringify(open)))
    expect(msg.fact).toStrictEqual(msg.payload)
    expect(msg.state).toStrictEqual({ value: 'open', seq: open.seq, since: open.time, factId: open.id })
    expect(msg.evidence).toBe('open')
  })
})

describe('fact out', () => {
  it('publishes a valid derived fact on flows/<flow>/fact/<name> and numbers it', async () => {
    await helper.load([nodes.broker, nodes.factOut], [
      brokerNode(),
      { id: 'fo', type: 'homefacts-fact-out', broker: 'b1', factType: 'alert.raised', flow: 'night-watch', wires: [['out']] },
      { id: 'out', type: 'helper' }
    ], credentials())
    const inbox = new Inbox(admin)
    await admin.subscribeAsync('flows/night-watch/fact/+', { qos: 1 })
    const cause = makeFact('motion.detected', { subject: 'home/hallway/motion', source: 'devices/motion', seq: 9, data: {} })
    const data = { reason: 'motion-at-night', severity: 'warning', detail: 'motion in the hallway at night' }
    helper.getNode('fo').receive({ payload: data, fact: cause })
    const [wire] = await inbox.wait('flows/night-watch/fact/raised')
    const fact = JSON.parse(wire!.payload) as Fact
    expect({ topic: wire!.topic, qos: wire!.qos, retain: wire!.retain }).toStrictEqual({ topic: 'flows/night-watch/fact/raised', qos: 1, retain: false })
    expect(fact).toMatchObject({ type: 'alert.raised', subject: 'flows/night-watch', source: 'flows/night-watch', seq: 1, data, causationid: cause.id, correlationid: cause.id })
    helper.getNode('fo').receive({ payload: data })
    const [, second] = await inbox.wait('flows/night-watch/fact/raised', 2)
    expect((JSON.parse(second!.payload) as Fact).seq).toBe(2)
    await admin.unsubscribeAsync('flows/night-watch/fact/+')
  })

  it('sends a fact the contract refuses to done(err) and publishes nothing', async () => {
    await helper.load([nodes.broker, nodes.factOut], [
      brokerNode(),
      { id: 'fo', type: 'homefacts-fact-out', broker: 'b1', factType: 'alert.raised', flow: 'night-watch', wires: [['out']] },
      { id: 'out', type: 'helper' }
    ], credentials())
    const error = nextError(helper.getNode('fo'))
    helper.getNode('fo').receive({ payload: { reason: 'Not Kebab', severity: 'loud' } })
    const call = await error
    expect((call.args[0] as { code?: string }).code).toBe('HF_DATA')
  })
})

describe('claim', () => {
  const flow = (member: string): unknown[] => [
    brokerNode(),
    { id: 'c', type: 'homefacts-claim', broker: 'b1', member, wires: [['won'], ['lost']] },
    { id: 'won', type: 'helper' },
    { id: 'lost', type: 'helper' }
  ]

  it('routes a claim the broker accepts to "won"', async () => {
    await helper.load([nodes.broker, nodes.claim], flow('mummy'), credentials())
    const fact = await doorOpened('claim-won')
    const won = nextMessage(helper.getNode('won'))
    helper.getNode('c').receive({ fact })
    expect(await won).toMatchObject({ claim: { outcome: 'won', by: 'mummy' } })
  })

  it('routes a claim somebody else holds to "lost" with the reason code', async () => {
    await helper.load([nodes.broker, nodes.claim], flow('mummy'), credentials())
    const fact = await doorOpened('claim-lost')
    await admin.publishAsync(`${fact.subject}/claim`, JSON.stringify({ factId: fact.id, by: 'daddy', at: new Date().toISOString() }), { qos: 1, retain: true })
    const lost = nextMessage(helper.getNode('lost'))
    helper.getNode('c').receive({ fact })
    expect(await lost).toMatchObject({ claim: { outcome: 'lost', by: 'mummy', reasonCode: 0x83 } })
    expect(String(((await lost).claim as { reason: string }).reason)).toContain('HF_CLAIMED')
  })

  it('reports a claim as a member Node-RED may not speak for as an error', async () => {
    await helper.load([nodes.broker, nodes.claim], flow('daddy'), credentials())
    const fact = await doorOpened('claim-refused')
    const error = nextError(helper.getNode('c'))
    helper.getNode('c').receive({ fact })
    expect((await error).args[0]).toMatchObject({ code: 'HF_NOT_AUTHORIZED' })
  })
})

describe('state', () => {
  it('reads the thing\'s retained state and the household presence from the mirror', async () => {
    await admin.publishAsync('household/mummy/presence', 'away', { qos: 1, retain: true })
    const fact = await doorOpened('state-read')
    await helper.load([nodes.broker, nodes.state], [
      brokerNode(),
      { id: 's', type: 'homefacts-state', broker: 'b1', area: 'hall', thing: 'state-read', members: 'mummy,nobody', timeoutMs: 300, wires: [['out']] },
      { id: 'out', type: 'helper' }
    ], credentials())
    const out = nextMessage(helper.getNode('out'))
    helper.getNode('s').receive({})
    const msg = await out
    expect(msg.payload).toStrictEqual({ value: 'open', seq: fact.seq, since: fact.time, factId: fact.id })
    expect(msg.subject).toBe('home/hall/state-read')
    // A member whose presence was never heard is null (the read waited for it, within its bound).
    expect(msg.presence).toStrictEqual({ mummy: 'away', nobody: null })
  })
})

/** Waits until the fact in node's subscription is granted. */
async function waitSubscribed (): Promise<void> {
  await (helper.getNode('in') as unknown as { subscribed: Promise<unknown> }).subscribed
}
