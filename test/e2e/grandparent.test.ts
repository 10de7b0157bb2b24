import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startWorld, claimsFor, decidedBy, decisionOf, escalatedTo, escalationOf, type World } from '../household/world.ts'

describe('a member added while the hub runs', () => {
  let w: World
  beforeEach(async () => { w = await startWorld() })
  afterEach(async () => { await w.stop() })

  it('takes part (escalations, then a claim) with no change to the cup or the other members', async () => {
    // Grandma chose `auto`: her agent claims for her, as every agent did before offers.
    const policy = { 'cup.empty': { auto: ['grandma'], escalation: [{ afterSeconds: 0.5 }, { afterSeconds: 1, notify: { roles: ['grandparent'] } }] } }
    for (const m of ['mummy', 'daddy']) await w.presence(m, 'busy')
    const house = await w.household({ members: [{ name: 'mummy' }, { name: 'daddy' }], policies: policy })
    await house.start()
    const cup = w.newCup()

    // Grandma joins the running household: her own user, her own session, nobody else restarts.
    await w.presence('grandma', 'busy')
    await house.add({ name: 'grandma', role: 'grandparent' })
    const first = await cup.empty()
    const [esc] = await w.wire.wait((m) => escalatedTo('grandma', first.id)(m) && escalationOf(JSON.parse(m.payload)).step === 2)
    expect(escalationOf(JSON.parse(esc!.payload))).toMatchObject({ member: 'grandma', step: 2, factId: first.id })
    expect(w.t.hub.users.get('household-grandma')).toMatchObject({ role: 'responder', member: 'grandma' })
    await cup.filled()

    // Grandma comes home; the next time the cup empties she is the one free member, and claims it.
    await w.presence('grandma', 'home')
    const second = await cup.empty()
    const [decided] = await w.wire.wait(decidedBy('grandma', second.id))
    expect(decisionOf(JSON.parse(decided!.payload))).toMatchObject({ member: 'grandma', decision: 'claim', reason: 'open' })
    await w.wire.wait((m) => m.topic === 'home/kitchen/lily-cup/claim' && m.payload.includes(second.id))
    expect(claimsFor(w.wire, second.id).map((m) => ({ ...m, payload: JSON.parse(m.payload) }))).toStrictEqual([
      { topic: 'home/kitchen/lily-cup/claim', payload: { factId: second.id, by: 'grandma', at: expect.any(String) }, qos: 1, retain: true }
    ])
    for (const m of ['mummy', 'daddy']) {
      const [d] = await w.wire.wait(decidedBy(m, second.id))
      expect(decisionOf(JSON.parse(d!.payload))).toMatchObject({ decision: 'skip', reason: 'busy' })
    }
  })
})
