import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Fact } from '#contract'
import { startWorld, escalatedTo, escalationOf, claimsFor, decidedBy, decisionOf, type World } from './world.ts'

const policy = {
  'cup.empty': {
    auto: ['mummy', 'daddy'],
    escalation: [
      { afterSeconds: 0.8, priority: 'high' },
      { afterSeconds: 1.6, notify: { roles: ['grandparent'] }, priority: 'high' },
      // A last step for everyone: once it has fired, any repeat of the earlier ones would have too.
      { afterSeconds: 2.4, priority: 'urgent' }
    ]
  }
}

describe('escalation when nobody claims', () => {
  let w: World
  beforeEach(async () => { w = await startWorld() })
  afterEach(async () => { await w.stop() })

  it('notifies everyone at the first step, the grandparents at the second, each once and at the policy time', async () => {
    for (const m of ['mummy', 'daddy', 'grandma']) await w.presence(m, 'busy')
    const house = await w.household({ members: [{ name: 'mummy' }, { name: 'daddy' }, { name: 'grandma', role: 'grandparent' }], policies: policy })
    await house.start()
    const empty = await w.newCup().empty()
    const t0 = Date.parse(empty.time)
    for (const m of ['mummy', 'daddy', 'grandma']) await w.wire.wait((x) => escalatedTo(m, empty.id)(x) && escalationOf(JSON.parse(x.payload)).step === 3, 1, 8000)

    const escalations = w.wire.messages.filter((m) => m.topic.endsWith('/fact/escalated'))
    const steps = escalations.map((m) => [m.topic, escalationOf(JSON.parse(m.payload)).step]).sort()
    expect(steps).toStrictEqual([
      ['household/daddy/fact/escalated', 1], ['household/daddy/fact/escalated', 3],
      ['household/grandma/fact/escalated', 1], ['household/grandma/fact/escalated', 2], ['household/grandma/fact/escalated', 3],
      ['household/mummy/fact/escalated', 1], ['household/mummy/fact/escalated', 3]
    ])
    for (const m of escalations) {
      expect(m.qos).toBe(1)
      expect(m.retain).toBe(false)
      const fact = JSON.parse(m.payload) as Fact
      const data = escalationOf(fact)
      const after = policy['cup.empty'].escalation[data.step - 1]!
      expect(fact).toMatchObject({ type: 'household.escalated', subject: `household/${data.member}`, causationid: empty.id, correlationid: empty.id })
      expect(data).toStrictEqual({
        member: m.topic.split('/')[1],
        factId: empty.id,
        factType: 'cup.empty',
        factSeq: empty.seq,
        subject: 'home/kitchen/lily-cup',
        step: data.step,
        priority: after.priority,
        due: new Date(t0 + after.afterSeconds * 1000).toISOString(),
        detail: `nobody claimed cup.empty on home/kitchen/lily-cup within ${after.afterSeconds} s`
      })
      // Fired at the policy time: not before it is due, and promptly after.
      const firedAt = Date.parse(fact.time)
      expect(firedAt).toBeGreaterThanOrEqual(t0 + after.afterSeconds * 1000)
      expect(firedAt).toBeLessThan(t0 + after.afterSeconds * 1000 + 1200)
    }
    expect(claimsFor(w.wire, empty.id)).toStrictEqual([])
  })

  it('stops escalating once someone claims', async () => {
    await w.presence('daddy', 'busy')
    const house = await w.household({ members: [{ name: 'mummy' }, { name: 'daddy' }], policies: policy })
    await house.start()
    const empty = await w.newCup().empty()
    await w.wire.wait((m) => decidedBy('mummy', empty.id)(m) && decisionOf(JSON.parse(m.payload)).decision === 'claim')
    // A second cup nobody claims (Mummy goes busy first) escalates through every step; by then
    // the first cup's steps were due too, and none fired.
    await w.presence('mummy', 'busy')
    const other = await w.newCup('other-cup').empty()
    await w.wire.wait((x) => escalatedTo('daddy', other.id)(x) && escalationOf(JSON.parse(x.payload)).step === 3, 1, 8000)
    expect(w.wire.messages.filter((m) => m.topic.endsWith('/fact/escalated') && m.payload.includes(empty.id))).toStrictEqual([])
  })
})
