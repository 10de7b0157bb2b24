import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Fact } from '#contract'
import { runHousehold, type HouseholdChild } from '../e2e/fixtures/household-process.ts'
import { startWorld, claimsFor, decidedBy, decisionOf, decisions, type World } from '../household/world.ts'

// The household service killed with kill -9 in the middle of a stream of
// facts. test/e2e/crash.test.ts kills it paused on one fact; here it dies wherever it is in a
// stream of 20 cups emptied, and each fact must still be decided, and claimed once.

const CUPS = 20
const KILL_AFTER = 8

describe('the household service killed with kill -9 mid-stream', () => {
  let w: World
  const children: HouseholdChild[] = []
  beforeAll(async () => { w = await startWorld() })
  afterAll(async () => {
    for (const c of children.splice(0)) await c.kill()
    await w?.stop()
  })

  it(`decides each of ${CUPS} facts and claims each once across a kill -9 after ${KILL_AFTER}`, async () => {
    await w.presence('mummy', 'home')
    // Mummy chose `auto`: her agent claims for her, so a claim made twice would show.
    const household = { members: [{ name: 'mummy' }], policies: { 'cup.empty': { auto: ['mummy'] } } }
    const first = await runHousehold(w, household, { children })
    const facts: Fact[] = []
    for (let i = 0; i < CUPS; i++) {
      facts.push(await w.newCup(`cup-${i}`).empty())
      if (i === KILL_AFTER - 1) {
        // Wherever it is: some facts decided and acknowledged, some not, some not yet received.
        await w.wire.wait(decidedBy('mummy', facts[0]!.id))
        await first.kill()
        void runHousehold(w, household, { children })
      }
    }
    for (const f of facts) await w.wire.wait(decidedBy('mummy', f.id), 1, 20_000)
    // A last fact after the stream: anything the restarted service would do twice about an earlier one comes before it.
    const last = await w.newCup('cup-last').empty()
    await w.wire.wait(decidedBy('mummy', last.id), 1, 20_000)
    await w.wire.wait((m) => claimsFor(w.wire, last.id).includes(m))
    const decidedBefore = facts.filter((f) => decisions(w.wire, 'mummy', f.id).some((d) => Date.parse(d.time) < Date.parse(facts[KILL_AFTER - 1]!.time))).length
    console.log(`killed-household: ${decidedBefore} of ${CUPS} facts decided before the kill; ${decisions(w.wire, 'mummy').length - CUPS - 1} decisions made again after it`)
    for (const f of [...facts, last]) {
      // Acted on once: one claim on the wire, and one decision to claim an open fact; a decision made again after the restart says "mine".
      expect(claimsFor(w.wire, f.id).map((m) => ({ topic: m.topic, factId: (JSON.parse(m.payload) as { factId: string }).factId, retain: m.retain }))).toStrictEqual([{ topic: `${f.subject}/claim`, factId: f.id, retain: true }])
      const made = decisions(w.wire, 'mummy', f.id).map((d) => [decisionOf(d).decision, decisionOf(d).reason])
      expect(made.filter(([d, r]) => d === 'claim' && r === 'open')).toHaveLength(1)
      expect(made.filter(([d, r]) => !(d === 'claim' && (r === 'open' || r === 'mine')))).toStrictEqual([])
    }
    expect(w.wire.messages.filter((m) => m.topic.startsWith('homefacts/deadletter/'))).toStrictEqual([])
  }, 90_000)
})
