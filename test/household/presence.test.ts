import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Fact } from '#contract'
import { startWorld, claimsFor, decidedBy, decisionOf, decisions, type World } from './world.ts'

describe('a member whose presence is not retained', () => {
  let w: World
  beforeEach(async () => { w = await startWorld() })
  afterEach(async () => { await w.stop() })

  const config = { members: [{ name: 'mummy' }], policies: { 'cup.empty': { auto: ['mummy'] } }, evidenceTimeoutMs: 300 }

  it('waits for it, defers without claiming, and claims once her phone says she is home', async () => {
    const house = await w.household(config, { presence: false })
    await house.start()
    const empty = await w.newCup().empty()
    const [deferred] = await w.wire.wait(decidedBy('mummy', empty.id))
    const fact = JSON.parse(deferred!.payload) as Fact
    expect(decisionOf(fact)).toStrictEqual({
      member: 'mummy',
      decision: 'deferred',
      reason: 'no-presence',
      detail: 'no presence retained for me (household/mummy/presence) within 300 ms: not claiming; I will decide when it arrives',
      fact: { id: empty.id, type: 'cup.empty', subject: 'home/kitchen/lily-cup', seq: 1 }
    })
    // It waited for the bound: the fact's state was there at once, her presence never came.
    expect(Date.parse(fact.time) - Date.parse(empty.time)).toBeGreaterThanOrEqual(300)
    expect(claimsFor(w.wire, empty.id)).toStrictEqual([])

    await w.presence('mummy', 'home')
    await w.wire.wait(decidedBy('mummy', empty.id), 2)
    expect(decisions(w.wire, 'mummy', empty.id).map((f) => [decisionOf(f).decision, decisionOf(f).reason])).toStrictEqual([['deferred', 'no-presence'], ['claim', 'open']])
    const [claim] = await w.wire.wait((m) => claimsFor(w.wire, empty.id).includes(m))
    expect({ ...claim!, payload: JSON.parse(claim!.payload) }).toStrictEqual({
      topic: 'home/kitchen/lily-cup/claim',
      payload: { factId: empty.id, by: 'mummy', at: expect.any(String) },
      qos: 1,
      retain: true
    })
  })

  it('skips the deferred fact when the presence that arrives says busy', async () => {
    const house = await w.household(config, { presence: false })
    await house.start()
    const empty = await w.newCup().empty()
    await w.wire.wait(decidedBy('mummy', empty.id))
    await w.presence('mummy', 'busy')
    await w.wire.wait(decidedBy('mummy', empty.id), 2)
    expect(decisions(w.wire, 'mummy', empty.id).map((f) => [decisionOf(f).decision, decisionOf(f).reason])).toStrictEqual([['deferred', 'no-presence'], ['skip', 'busy']])
    expect(claimsFor(w.wire, empty.id)).toStrictEqual([])
  })
})
