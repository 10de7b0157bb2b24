import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Fact } from '#contract'
import { runHousehold, type HouseholdChild as Child } from './fixtures/household-process.ts'
import { startWorld, claimsFor, decidedBy, decisionOf, decisions, escalatedTo, escalationOf, type World } from '../household/world.ts'

describe('the household service killed mid-decision and restarted', () => {
  let w: World
  const children: Child[] = []
  beforeEach(async () => { w = await startWorld() })
  afterEach(async () => {
    for (const c of children.splice(0)) await c.kill()
    await w.stop()
  })

  const run = (household: unknown, pause?: string): Promise<Child> => runHousehold(w, household, { children, ...(pause ? { pause } : {}) })

  it('gets the unacknowledged fact again and does not claim it twice', async () => {
    await w.presence('mummy', 'home')
    // Mummy chose `auto`: this is about a claim made twice, so her agent claims for her.
    const household = { members: [{ name: 'mummy' }], policies: { 'cup.empty': { auto: ['mummy'] } } }
    const first = await run(household, 'mummy')
    const empty = await w.newCup().empty()
    expect(await first.printed('PAUSED')).toBe(`PAUSED mummy ${empty.id}`)
    await w.wire.wait((m) => m.topic === 'home/kitchen/lily-cup/claim')
    await first.kill()

    await run(household)
    // The broker delivers the fact again (it was never acknowledged); Mummy sees her own claim.
    await w.wire.wait(decidedBy('mummy', empty.id), 2)
    expect(decisions(w.wire, 'mummy', empty.id).map((f) => [decisionOf(f).decision, decisionOf(f).reason])).toStrictEqual([['claim', 'open'], ['claim', 'mine']])
    const claims = claimsFor(w.wire, empty.id)
    expect(claims.map((m) => ({ ...m, payload: JSON.parse(m.payload) }))).toStrictEqual([
      { topic: 'home/kitchen/lily-cup/claim', payload: { factId: empty.id, by: 'mummy', at: expect.any(String) }, qos: 1, retain: true }
    ])
    expect(w.wire.messages.filter((m) => m.topic.startsWith('homefacts/deadletter/'))).toStrictEqual([])
  })

  it('keeps the escalation deadline counted from the fact, not from the restart, and fires it once', async () => {
    await w.presence('daddy', 'busy')
    const after = 6
    const household = { members: [{ name: 'daddy' }], policies: { 'cup.empty': { escalation: [{ afterSeconds: after }, { afterSeconds: after + 1, priority: 'urgent' }] } } }
    const first = await run(household, 'daddy')
    const empty = await w.newCup().empty()
    await first.printed('PAUSED')
    await first.kill()
    const t0 = Date.parse(empty.time)
    // Restart 2 s after the fact, well before the deadline: a deadline counted from the restart
    // would fire at t0 + 8 s or later, past the bound below (1.8 s of slack for a loaded machine).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 + 2000 - Date.now())))
    await run(household)
    const [step2] = await w.wire.wait((m) => escalatedTo('daddy', empty.id)(m) && escalationOf(JSON.parse(m.payload)).step === 2, 1, 15_000)
    const fired = w.wire.messages.filter(escalatedTo('daddy', empty.id)).map((m) => JSON.parse(m.payload) as Fact)
    expect(fired.map((f) => escalationOf(f).step)).toStrictEqual([1, 2])
    const step1 = fired[0]!
    expect(escalationOf(step1).due).toBe(new Date(t0 + after * 1000).toISOString())
    expect(Date.parse(step1.time)).toBeGreaterThanOrEqual(t0 + after * 1000)
    expect(Date.parse(step1.time)).toBeLessThan(t0 + after * 1000 + 1800)
    expect(step2!.qos).toBe(1)
    expect(claimsFor(w.wire, empty.id)).toStrictEqual([])
  }, 30_000)
})
