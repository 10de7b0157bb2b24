import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWorld, claimsFor, decidedBy, decisionOf, decisions, type World } from './world.ts'
import type { Household } from '../../services/household/index.ts'

describe('two free members race for the same fact', () => {
  let w: World
  let house: Household
  beforeAll(async () => {
    w = await startWorld()
    house = await w.household({ members: [{ name: 'mummy' }, { name: 'daddy' }], policies: { 'cup.empty': { auto: ['mummy', 'daddy'] } }, clearClaimAfterMs: 20 })
    await house.start()
  })
  afterAll(async () => { await w.stop() })

  it('lets exactly one claim win, the same for everyone, in every one of 50 runs', async () => {
    const cup = w.newCup()
    for (let run = 0; run < 50; run++) {
      const empty = await cup.empty()
      const [won] = await w.wire.wait((m) => m.topic === 'home/kitchen/lily-cup/claim' && m.payload.includes(empty.id))
      const winner = JSON.parse(won!.payload).by as string
      const loser = winner === 'mummy' ? 'daddy' : 'mummy'
      await w.wire.wait((m) => decidedBy(loser, empty.id)(m) && decisionOf(JSON.parse(m.payload)).decision === 'stand-down')
      // The broker delivered one claim; a second one, if sent, was dead-lettered as HF_CLAIMED.
      expect(claimsFor(w.wire, empty.id)).toStrictEqual([{ topic: 'home/kitchen/lily-cup/claim', payload: won!.payload, qos: 1, retain: true }])
      const refused = w.wire.messages.filter((m) => m.topic === `homefacts/deadletter/household-${loser}-out` && m.payload.includes(empty.id))
      for (const r of refused) expect(JSON.parse(r.payload).reason.code).toBe('HF_CLAIMED')
      expect(decisions(w.wire, winner, empty.id).map((f) => decisionOf(f).decision)).toStrictEqual(['claim'])
      const lost = decisions(w.wire, loser, empty.id).map((f) => [decisionOf(f).decision, decisionOf(f).reason])
      expect([[['stand-down', 'claimed']], [['claim', 'open'], ['stand-down', 'lost-race']]]).toContainEqual(lost)
      expect(lost.length === 2).toBe(refused.length === 1)
      // The claim is cleared when the cup is refilled (by the broker, or by the winner where it does not).
      await cup.filled()
      await w.wire.wait((m) => decidedBy(winner, empty.id)(m) && decisionOf(JSON.parse(m.payload)).decision === 'done')
      await w.wire.wait((m) => m.topic === 'home/kitchen/lily-cup/claim' && m.payload === '', run + 1)
    }
    // Both claimed at once in at least some runs, so the race really was run (and lost by one).
    expect(w.wire.messages.filter((m) => m.topic.startsWith('homefacts/deadletter/household-')).length).toBeGreaterThan(0)
  }, 60_000)

  it('acts once on a fact delivered twice with the same id', async () => {
    const cup = w.newCup('dup-cup')
    const empty = await cup.empty()
    await w.device.publishAsync('home/kitchen/dup-cup/fact/empty', JSON.stringify(empty), { qos: 1 })
    // A later fact on another cup: each inbox handles messages in order, so once both decided on
    // it, both have handled the duplicate too.
    const marker = await w.newCup('marker-cup').empty()
    await w.wire.wait(decidedBy('mummy', marker.id))
    await w.wire.wait(decidedBy('daddy', marker.id))
    expect(w.wire.on('home/kitchen/dup-cup/fact/empty')).toHaveLength(2)
    for (const member of ['mummy', 'daddy']) {
      // One decision on the fact itself; a lost race adds a stand-down, never a second decision.
      const own = decisions(w.wire, member, empty.id).filter((f) => decisionOf(f).reason !== 'lost-race')
      expect(own).toHaveLength(1)
      const attempts = w.wire.messages.filter((m) => m.topic === `homefacts/deadletter/household-${member}-out` && m.payload.includes(empty.id))
      expect(attempts.length).toBeLessThanOrEqual(1)
    }
    expect(claimsFor(w.wire, empty.id)).toHaveLength(1)
  })
})
