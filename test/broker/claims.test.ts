import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox, publishAck } from '../helpers/mqtt.ts'
import { cupEmpty, cupFilled } from '../helpers/facts.ts'
import type { Fact } from '#contract'

const claim = (factId: string, by: string): string => JSON.stringify({ factId, by, at: '2026-11-29T14:00:01.000Z' })
const stateOf = (f: Fact, value: string): string => JSON.stringify({ value, seq: f.seq, since: f.time, factId: f.id })

describe('the broker vouches for claims', () => {
  let t: TestHub
  let device: MqttClient
  let watcher: MqttClient
  let wire: Inbox
  const phones: Record<string, MqttClient> = {}
  beforeAll(async () => {
    t = await startTestHub()
    const cups = await t.addUser({ username: 'cups', role: 'device', things: ['kitchen/+'] })
    device = await connect(t.mqttUrl, { ...cups, clientId: 'cups', protocolVersion: 5 })
    const ops = await t.addUser({ username: 'ops', role: 'admin' })
    watcher = await connect(t.mqttUrl, { ...ops, clientId: 'ops', protocolVersion: 5 })
    wire = new Inbox(watcher)
    await watcher.subscribeAsync(['home/+/+/claim', 'homefacts/deadletter/#'], { qos: 1 })
    for (const [member, protocolVersion] of [['mummy', 5], ['daddy', 5], ['granny', 4]] as const) {
      const creds = await t.addUser({ username: `${member}-phone`, role: 'member', member })
      phones[member] = await connect(t.mqttUrl, { ...creds, clientId: `${member}-phone`, protocolVersion })
    }
  })
  afterAll(async () => {
    await Promise.all([device, watcher, ...Object.values(phones)].map((c) => c?.endAsync()))
    await t?.stop()
  })

  /** Publishes a fact and the state it sets, as a device does. */
  async function happen (f: Fact, value: string): Promise<void> {
    const name = f.type.split('.')[1]
    await device.publishAsync(`${f.subject}/fact/${name}`, JSON.stringify(f), { qos: 1 })
    await device.publishAsync(`${f.subject}/state`, stateOf(f, value), { qos: 1, retain: true })
  }

  /** The claim retained for `thing` right now, read from the session store (what a late subscriber is given). */
  async function retainedClaim (thing: string): Promise<unknown> {
    const raw = await t.hub.broker.retained(`home/kitchen/${thing}/claim`)
    return raw === null ? null : JSON.parse(raw.toString())
  }

  it('refuses a claim for a thing with no state, or for a fact its state does not name, with 0x83 and a dead letter', async () => {
    const early = cupEmpty(1, 'kitchen', 'mug')
    expect(await publishAck(phones.mummy!, `${early.subject}/claim`, claim(early.id, 'mummy'), { retain: true })).toStrictEqual({
      reasonCode: 0x83,
      reasonString: `HF_CLAIM_NOT_CURRENT: fact ${early.id} is not the current fact of home/kitchen/mug: it has no state`
    })
    const [letter] = await wire.wait('homefacts/deadletter/mummy-phone')
    expect(JSON.parse(letter!.payload)).toMatchObject({ reason: { code: 'HF_CLAIM_NOT_CURRENT' }, topic: `${early.subject}/claim`, retain: true, payload: claim(early.id, 'mummy') })
    await happen(early, 'empty')
    const later = cupFilled(2, 'kitchen', 'mug')
    await happen(later, 'full')
    // The old fact is resolved: claiming it now is refused, and nothing is retained.
    expect((await publishAck(phones.mummy!, `${early.subject}/claim`, claim(early.id, 'mummy'), { retain: true })).reasonCode).toBe(0x83)
    expect(wire.on(`${early.subject}/claim`)).toStrictEqual([])
    expect(await retainedClaim('mug')).toBe(null)
  })

  it('gives the current fact to the first claim the broker sees and refuses the second with HF_CLAIMED, the same for a late subscriber', async () => {
    const f = cupEmpty(1, 'kitchen', 'lily-cup')
    await happen(f, 'empty')
    const [first, second] = await Promise.all([
      publishAck(phones.mummy!, `${f.subject}/claim`, claim(f.id, 'mummy'), { retain: true }),
      publishAck(phones.daddy!, `${f.subject}/claim`, claim(f.id, 'daddy'), { retain: true })
    ])
    const acks = [first!, second!]
    expect(acks.filter((a) => a.reasonCode === 0)).toHaveLength(1)
    const [refused] = acks.filter((a) => a.reasonCode !== 0)
    const winner = first!.reasonCode === 0 ? 'mummy' : 'daddy'
    expect(refused).toStrictEqual({ reasonCode: 0x83, reasonString: `HF_CLAIMED: fact ${f.id} is already claimed by "${winner}"` })
    const delivered = await wire.wait(`${f.subject}/claim`)
    expect(delivered.map((m) => JSON.parse(m.payload).by)).toStrictEqual([winner])
    expect(await retainedClaim('lily-cup')).toStrictEqual(JSON.parse(claim(f.id, winner)))
  })

  it('lets only the holder or an admin clear a claim; anyone else is refused with HF_NOT_HOLDER', async () => {
    const f = cupEmpty(1, 'kitchen', 'bowl')
    await happen(f, 'empty')
    await publishAck(phones.mummy!, `${f.subject}/claim`, claim(f.id, 'mummy'), { retain: true })
    expect(await publishAck(phones.daddy!, `${f.subject}/claim`, '', { retain: true })).toStrictEqual({ reasonCode: 0x87, reasonString: 'HF_NOT_HOLDER: only "mummy" (who holds the claim) or an admin may clear it' })
    // MQTT 3.1.1 has no reason codes: acknowledged, not applied, dead-lettered.
    expect(await publishAck(phones.granny!, `${f.subject}/claim`, '', { retain: true })).toStrictEqual({ reasonCode: 0 })
    const [letter] = await wire.wait('homefacts/deadletter/granny-phone')
    expect(JSON.parse(letter!.payload).reason.code).toBe('HF_NOT_HOLDER')
    expect(await retainedClaim('bowl')).toStrictEqual(JSON.parse(claim(f.id, 'mummy')))
    expect(await publishAck(phones.mummy!, `${f.subject}/claim`, '', { retain: true })).toStrictEqual({ reasonCode: 0 })
    expect(await retainedClaim('bowl')).toBe(null)
    await publishAck(phones.daddy!, `${f.subject}/claim`, claim(f.id, 'daddy'), { retain: true })
    expect(await publishAck(watcher, `${f.subject}/claim`, '', { retain: true })).toStrictEqual({ reasonCode: 0 })
    expect(await retainedClaim('bowl')).toBe(null)
  })

  it('clears a claim itself once the state moves past the claimed fact, with no responder running', async () => {
    const f = cupEmpty(1, 'kitchen', 'jug')
    await happen(f, 'empty')
    await publishAck(phones.daddy!, `${f.subject}/claim`, claim(f.id, 'daddy'), { retain: true })
    await wire.wait(`${f.subject}/claim`)
    const refill = cupFilled(2, 'kitchen', 'jug')
    await happen(refill, 'full')
    const [, cleared] = await wire.wait(`${f.subject}/claim`, 2)
    expect(cleared).toStrictEqual({ topic: `${f.subject}/claim`, payload: '', qos: 1, retain: false })
    expect(await retainedClaim('jug')).toBe(null)
    // The next fact is free to claim, by anyone.
    const again = cupEmpty(3, 'kitchen', 'jug')
    await happen(again, 'empty')
    expect(await publishAck(phones.mummy!, `${f.subject}/claim`, claim(again.id, 'mummy'), { retain: true })).toStrictEqual({ reasonCode: 0 })
  })

  it('keeps the claim when the state is published again for the same fact', async () => {
    const f = cupEmpty(1, 'kitchen', 'flask')
    await happen(f, 'empty')
    await publishAck(phones.mummy!, `${f.subject}/claim`, claim(f.id, 'mummy'), { retain: true })
    await device.publishAsync(`${f.subject}/state`, stateOf(f, 'empty'), { qos: 1, retain: true })
    expect(await retainedClaim('flask')).toStrictEqual(JSON.parse(claim(f.id, 'mummy')))
  })
})

describe('claims across a restart', () => {
  it('clears at start a retained claim whose state had already moved past it', async () => {
    let t = await startTestHub()
    const dir = t.dir
    try {
      const ops = await t.addUser({ username: 'ops', role: 'admin' })
      const admin = await connect(t.mqttUrl, { ...ops, protocolVersion: 5 })
      const f = cupEmpty(1, 'hall', 'vase')
      await admin.publishAsync(`${f.subject}/state`, stateOf(f, 'empty'), { qos: 1, retain: true })
      await admin.publishAsync(`${f.subject}/claim`, claim(f.id, 'mummy'), { qos: 1, retain: true })
      await admin.endAsync()
      await t.hub.stop()
      // What a crash between a state's PUBACK and the broker's own clear leaves: a newer state
      // and the old claim, both retained (written here straight into the store, hub stopped).
      const { SessionStore } = await import('../../broker/session-store.ts')
      const store = new SessionStore(`${dir}/sessions.sqlite`)
      await store.setup({ id: 'test' })
      const next = cupFilled(2, 'hall', 'vase')
      await store.storeRetained({ cmd: 'publish', topic: `${f.subject}/state`, payload: Buffer.from(stateOf(next, 'full')), qos: 1, retain: true })
      await store.destroy()
      t = await startTestHub({ dir })
      const back = await connect(t.mqttUrl, { ...ops, protocolVersion: 5 })
      const inbox = new Inbox(back)
      await back.subscribeAsync([`${f.subject}/claim`, `${f.subject}/state`], { qos: 1 })
      const [state] = await inbox.wait(`${f.subject}/state`)
      expect(JSON.parse(state!.payload).factId).toBe(next.id)
      expect(await t.hub.broker.retained(`${f.subject}/claim`)).toBe(null)
      expect(inbox.on(`${f.subject}/claim`)).toStrictEqual([])
      await back.endAsync()
    } finally {
      await t.stop()
    }
  })
})
