import type { MqttClient } from 'mqtt'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Codes, HomefactsError } from '#contract'
import { claimMessage, claimRefusalFromDeadLetter, claimTopicOf, clearMessage, holderOf, publishClaim, refusalOf } from '#client'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'

const SUBJECT = 'home/kitchen/lily-cup'

describe('claim helpers', () => {
  it('build the retained claim and the clear of a thing', () => {
    const fact = cupEmpty(1)
    const at = new Date('2026-11-29T14:00:01.000Z')
    expect(claimMessage(fact, 'mummy', at)).toStrictEqual({ topic: `${SUBJECT}/claim`, payload: JSON.stringify({ factId: fact.id, by: 'mummy', at: at.toISOString() }), qos: 1, retain: true })
    expect(clearMessage(SUBJECT)).toStrictEqual({ topic: `${SUBJECT}/claim`, payload: '', qos: 1, retain: true })
    expect(() => claimTopicOf('household/mummy')).toThrow(expect.objectContaining({ code: Codes.TOPIC_SHAPE }) as HomefactsError)
  })

  it('read the holder of a fact from what a mirror holds', () => {
    const fact = cupEmpty(1)
    const claim = { factId: fact.id, by: 'daddy', at: fact.time }
    expect(holderOf(fact.id, { status: 'value', value: claim, replayed: true })).toStrictEqual({ status: 'held', by: 'daddy', claim })
    expect(holderOf(fact.id, { status: 'value', value: { ...claim, factId: '01JDX000000000000000000OLD' }, replayed: true })).toStrictEqual({ status: 'free', reason: 'other-fact' })
    expect(holderOf(fact.id, { status: 'cleared', replayed: false })).toStrictEqual({ status: 'free', reason: 'cleared' })
    expect(holderOf(fact.id, undefined)).toStrictEqual({ status: 'unknown', reason: 'no-claim-seen' })
    expect(holderOf(fact.id, { status: 'unreadable', replayed: true, error: { code: Codes.NOT_JSON, message: 'x', issues: [] }, payload: '{' })).toStrictEqual({ status: 'unknown', reason: 'unreadable-claim' })
  })

  it('tell a refusal (a PUBACK reason code of 0x80 or more) from another failure', () => {
    const err = Object.assign(new Error('Publish error: Implementation specific error'), { code: 0x83 })
    expect(refusalOf(err, { properties: { reasonString: 'HF_CLAIMED: taken' } })).toStrictEqual({ reasonCode: 0x83, reason: 'HF_CLAIMED: taken' })
    expect(refusalOf(err)).toStrictEqual({ reasonCode: 0x83, reason: 'Publish error: Implementation specific error' })
    expect(refusalOf(new Error('client disconnecting'))).toBeNull()
    expect(refusalOf(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBeNull()
  })

  it('reads only claims from dead letters', () => {
    // A dead letter as the broker writes it (DeadLetter in the contract).
    const letter = (code: string, topic: string, payload: string): string => JSON.stringify({
      reason: { code, message: 'x', issues: [] }, clientId: 'household-mummy-out', topic, qos: 1, retain: topic.endsWith('/claim'), payload, encoding: 'utf8', at: '2026-11-29T14:00:00.000Z'
    })
    expect(claimRefusalFromDeadLetter('not json')).toBeNull()
    expect(claimRefusalFromDeadLetter(letter('HF_DATA', `${SUBJECT}/fact/empty`, '{}'))).toBeNull()
    expect(claimRefusalFromDeadLetter(letter('HF_NOT_HOLDER', `${SUBJECT}/claim`, '')))
      .toStrictEqual({ topic: `${SUBJECT}/claim`, subject: SUBJECT, claim: null, code: 'HF_NOT_HOLDER', message: 'x' })
  })
})

describe('claims on the hub, as a claimant sees them', () => {
  let t: TestHub
  let writer: MqttClient
  const clients: MqttClient[] = []
  beforeEach(async () => {
    t = await startTestHub()
    writer = await connect(t.mqttUrl, { ...await t.addUser({ username: 'writer', role: 'admin' }), clientId: 'writer', protocolVersion: 5 })
  })
  afterEach(async () => {
    await Promise.all([writer, ...clients.splice(0)].map((c) => c.endAsync()))
    await t.stop()
  })

  async function responder (member: string): Promise<{ client: MqttClient, letters: Inbox }> {
    const creds = await t.addUser({ username: `household-${member}`, role: 'responder', member })
    const client = await connect(t.mqttUrl, { ...creds, clientId: `household-${member}-out`, protocolVersion: 5 })
    clients.push(client)
    const letters = new Inbox(client)
    await client.subscribeAsync(`homefacts/deadletter/household-${member}-out`, { qos: 1 })
    return { client, letters }
  }

  it('answers the second claim on a fact with a refusal, and dead-letters it with the reason', async () => {
    const fact = cupEmpty(1)
    await writer.publishAsync(`${SUBJECT}/state`, JSON.stringify({ value: 'empty', seq: 1, since: fact.time, factId: fact.id }), { qos: 1, retain: true })
    const mummy = await responder('mummy')
    const daddy = await responder('daddy')
    expect(await publishClaim(mummy.client, claimMessage(fact, 'mummy', new Date()))).toStrictEqual({ status: 'acknowledged' })
    const second = claimMessage(fact, 'daddy', new Date())
    expect(await publishClaim(daddy.client, second)).toStrictEqual({ status: 'refused', reasonCode: 0x83, reason: expect.stringMatching(/^HF_CLAIMED: /) })
    const [letter] = await daddy.letters.wait('homefacts/deadletter/household-daddy-out')
    expect(claimRefusalFromDeadLetter(letter!.payload)).toStrictEqual({
      topic: `${SUBJECT}/claim`,
      subject: SUBJECT,
      claim: JSON.parse(second.payload),
      code: Codes.CLAIMED,
      message: `fact ${fact.id} is already claimed by "mummy"`
    })
  })

  it('refuses a claim for a fact the state does not name', async () => {
    const mummy = await responder('mummy')
    const outcome = await publishClaim(mummy.client, claimMessage(cupEmpty(1), 'mummy', new Date()))
    expect(outcome).toStrictEqual({ status: 'refused', reasonCode: 0x83, reason: expect.stringMatching(/^HF_CLAIM_NOT_CURRENT: /) })
  })
})
