import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Fact } from '#contract'
import { stableId } from '../../services/lib/stable-id.ts'
import { connect, Inbox, publishAck } from '../helpers/mqtt.ts'
import { claimsFor, decidedBy, decisionOf, decisions, escalatedTo, escalationOf } from './world.ts'
import { notices, notified, startHouseholdHub, type HouseholdHub } from './household-hub.ts'

const CLAIM = 'home/kitchen/lily-cup/claim'
const offerIdOf = (member: string, fact: Fact): string => stableId(Date.parse(fact.time), `${fact.id}/${member}/offered`)

describe('a household with no config file: people claim, agents offer', () => {
  let h: HouseholdHub
  let mummyLogin: { username: string, password: string }
  beforeAll(async () => {
    h = await startHouseholdHub({ phones: true })
    mummyLogin = await h.addMember('mummy')
    await h.addMember('daddy')
  })
  afterAll(async () => { await h.stop() })

  it('makes every member user a household member at home (in name order), with the default presence retained', async () => {
    expect(h.t.hub.household.current.members.map((m) => [m.name, m.role, m.respondsTo])).toStrictEqual([['daddy', 'parent', ['cup.empty']], ['mummy', 'parent', ['cup.empty']]])
    await h.wire.wait((m) => m.topic === 'household/daddy/presence', 1)
    expect(['mummy', 'daddy'].map((m) => h.wire.on(`household/${m}/presence`))).toStrictEqual([
      [{ topic: 'household/mummy/presence', payload: 'home', qos: 1, retain: true }],
      [{ topic: 'household/daddy/presence', payload: 'home', qos: 1, retain: true }]
    ])
  })

  it('lists those members to the web app over HTTP', async () => {
    const ok = await fetch(`${h.t.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(mummyLogin) })
    const cookie = ok.headers.get('set-cookie')!.split(';')[0]!
    const res = await fetch(`${h.t.httpUrl}/api/household`, { headers: { cookie } })
    expect(await res.json()).toStrictEqual({ me: 'mummy', members: [{ name: 'daddy', role: 'parent' }, { name: 'mummy', role: 'parent' }], actionable: ['cup.empty'] })
  })

  it('offers an open fact to each member at home within 2 s, and claims nothing for anyone', async () => {
    const t0 = Date.now()
    const empty = await h.cup.empty()
    const [mummy] = await h.wire.wait(notified('mummy', 'offered', empty.id), 1, 2000 - (Date.now() - t0))
    const [daddy] = await h.wire.wait(notified('daddy', 'offered', empty.id), 1, 2000 - (Date.now() - t0))
    for (const [member, msg] of [['mummy', mummy!], ['daddy', daddy!]] as const) {
      expect({ ...msg, payload: JSON.parse(msg.payload) }).toStrictEqual({
        topic: `notify/${member}/fact/offered`,
        qos: 1,
        retain: false,
        payload: {
          specversion: '1.0',
          id: offerIdOf(member, empty),
          type: 'household.offered',
          source: `services/household/${member}`,
          subject: `notify/${member}`,
          time: expect.any(String),
          seq: expect.any(Number),
          datacontenttype: 'application/json',
          causationid: empty.id,
          correlationid: empty.id,
          data: { member, factId: empty.id, factType: 'cup.empty', factSeq: empty.seq, subject: 'home/kitchen/lily-cup', priority: 'normal', detail: `still open (seq ${empty.seq}), nobody has claimed it and ${member} is home: asking ${member}` }
        }
      })
      await h.wire.wait(decidedBy(member, empty.id))
      expect(decisions(h.wire, member, empty.id).map((f) => [decisionOf(f).decision, decisionOf(f).reason])).toStrictEqual([['offer', 'open']])
    }
    // Each agent publishes its claim (if any) before its decision: both decided, and nobody claimed.
    expect(claimsFor(h.wire, empty.id)).toStrictEqual([])
  })

  it('accepts and retains the claim a member makes from a phone, and withdraws the other members\' offers', async () => {
    const empty = await h.cup.empty()
    await h.wire.wait(notified('daddy', 'offered', empty.id))
    const phone = await h.phone('mummy')
    const claim = { factId: empty.id, by: 'mummy', at: new Date().toISOString() }
    expect(await publishAck(phone, CLAIM, JSON.stringify(claim), { retain: true })).toStrictEqual({ reasonCode: 0 })
    const [withdrawn] = await h.wire.wait(notified('daddy', 'offer-withdrawn', empty.id), 1, 2000)
    expect({ ...withdrawn!, payload: JSON.parse(withdrawn!.payload) }).toStrictEqual({
      topic: 'notify/daddy/fact/offer-withdrawn',
      qos: 1,
      retain: false,
      payload: expect.objectContaining({
        type: 'household.offer-withdrawn',
        subject: 'notify/daddy',
        causationid: offerIdOf('daddy', empty),
        correlationid: empty.id,
        data: { member: 'daddy', factId: empty.id, subject: 'home/kitchen/lily-cup', reason: 'claimed', detail: 'claimed by mummy' }
      })
    })
    // Retained: a phone that connects now is told who handles it.
    const late = await connect(h.t.mqttUrl, { ...(await h.t.addUser({ username: 'late', role: 'admin' })), protocolVersion: 5 })
    const lateInbox = new Inbox(late)
    await late.subscribeAsync(CLAIM, { qos: 1 })
    const [retained] = await lateInbox.wait(CLAIM)
    expect({ ...retained!, payload: JSON.parse(retained!.payload) }).toStrictEqual({ topic: CLAIM, payload: claim, qos: 1, retain: true })
    await late.endAsync()
    // The claimant's offer stands until the fact resolves; then it is withdrawn too.
    expect(notices(h.wire, 'mummy', 'offer-withdrawn', empty.id)).toStrictEqual([])
    await h.cup.filled()
    const [mine] = await h.wire.wait(notified('mummy', 'offer-withdrawn', empty.id), 1, 2000)
    expect((JSON.parse(mine!.payload) as Fact<'household.offer-withdrawn'>).data).toStrictEqual({ member: 'mummy', factId: empty.id, subject: 'home/kitchen/lily-cup', reason: 'resolved', detail: `home/kitchen/lily-cup is "full" now (seq ${empty.seq + 1})` })
    await h.wire.wait((m) => m.topic === CLAIM && m.payload === '', 1, 2000)
    expect(notices(h.wire, 'daddy', 'offer-withdrawn', empty.id)).toHaveLength(1)
  })

  it('does not ask a member who is busy', async () => {
    const daddy = await h.phone('daddy')
    await daddy.publishAsync('household/daddy/presence', 'busy', { qos: 1, retain: true })
    await h.wire.wait((m) => m.topic === 'household/daddy/presence' && m.payload === 'busy')
    const empty = await h.cup.empty()
    await h.wire.wait(notified('mummy', 'offered', empty.id))
    await h.wire.wait(decidedBy('daddy', empty.id))
    expect(decisions(h.wire, 'daddy', empty.id).map((f) => [decisionOf(f).decision, decisionOf(f).reason])).toStrictEqual([['skip', 'busy']])
    expect(notices(h.wire, 'daddy', 'offered', empty.id)).toStrictEqual([])
    await daddy.publishAsync('household/daddy/presence', 'home', { qos: 1, retain: true })
    await h.cup.filled()
  })
})

describe('a household whose policy escalates, or claims for a member who chose auto', () => {
  let h: HouseholdHub
  afterEach(async () => { await h.stop() })

  it('escalates to everyone when nobody claims within the policy\'s time', async () => {
    h = await startHouseholdHub({ file: { household: { policies: { 'cup.empty': { escalation: [{ afterSeconds: 0.6, priority: 'high' }] } } } } })
    await h.addMember('mummy')
    await h.addMember('daddy')
    const empty = await h.cup.empty()
    for (const m of ['mummy', 'daddy']) {
      const [e] = await h.wire.wait(escalatedTo(m, empty.id), 1, 4000)
      expect(escalationOf(JSON.parse(e!.payload) as Fact)).toMatchObject({ member: m, factId: empty.id, step: 1, priority: 'high' })
    }
    expect(claimsFor(h.wire, empty.id)).toStrictEqual([])
  })

  it('claims at once for a member in the policy\'s auto list, as agents did before, and withdraws the others\' offers', async () => {
    h = await startHouseholdHub({ file: { household: { policies: { 'cup.empty': { auto: ['daddy'] } } } } })
    await h.addMember('mummy')
    await h.addMember('daddy')
    const empty = await h.cup.empty()
    const [claim] = await h.wire.wait((m) => claimsFor(h.wire, empty.id).includes(m), 1, 2000)
    expect({ ...claim!, payload: JSON.parse(claim!.payload) }).toStrictEqual({ topic: CLAIM, payload: { factId: empty.id, by: 'daddy', at: expect.any(String) }, qos: 1, retain: true })
    await h.wire.wait(decidedBy('daddy', empty.id))
    expect(decisions(h.wire, 'daddy', empty.id).map((f) => [decisionOf(f).decision, decisionOf(f).reason])).toStrictEqual([['claim', 'open']])
    expect(notices(h.wire, 'daddy', 'offered', empty.id)).toStrictEqual([])
    // Mummy's agent either saw the claim first (stands down) or had offered (and withdraws).
    await h.wire.wait(decidedBy('mummy', empty.id))
    const mummy = decisions(h.wire, 'mummy', empty.id).map((f) => decisionOf(f).decision)
    if (mummy[0] === 'offer') await h.wire.wait(notified('mummy', 'offer-withdrawn', empty.id), 1, 2000)
    else expect(mummy).toStrictEqual(['stand-down'])
  })
})
