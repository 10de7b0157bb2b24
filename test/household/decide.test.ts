import { describe, expect, it } from 'vitest'
import { makeFact, type Fact, type ThingState } from '#contract'
import { HouseholdConfig } from '../../services/household/config.ts'
import { decide, dueFacts, initialState, nextDue, type ResponderState } from '../../services/household/decide.ts'
import { quietUntil, stableId, stepDue } from '../../services/household/policy.ts'

const T0 = Date.parse('2026-11-29T14:00:00.000Z')
const household = HouseholdConfig.parse({
  members: [{ name: 'mummy' }, { name: 'grandma', role: 'grandparent' }],
  policies: { 'cup.empty': { escalation: [{ afterSeconds: 60, priority: 'high' }, { afterSeconds: 300, notify: { roles: ['grandparent'] } }] } }
})
const [mummy, grandma] = household.members as [HouseholdConfig['members'][0], HouseholdConfig['members'][0]]
const start = (me = mummy): ResponderState => initialState(me, household, 100)
const empty = (seq = 1): Fact => makeFact('cup.empty', { subject: 'home/kitchen/lily-cup', source: 'devices/kitchen-lily-cup', seq, time: new Date(T0), data: { level: 0 } })
const stateOf = (f: Fact, value: string): ThingState => ({ value, seq: f.seq, since: f.time, factId: f.id })
const payloads = (d: { publish: { payload: string }[] }): unknown[] => d.publish.map((p) => p.payload === '' ? '' : JSON.parse(p.payload))

describe('decide()', () => {
  it('claims an open fact nobody has claimed when home, and says why', () => {
    const f = empty()
    const d = decide(start(), { kind: 'fact', fact: f, state: stateOf(f, 'empty'), claim: null, presence: null }, T0 + 1000)
    expect(d.publish.map((p) => [p.topic, p.retain, p.qos])).toStrictEqual([
      ['home/kitchen/lily-cup/claim', true, 1],
      ['household/mummy/fact/decided', false, 1]
    ])
    const [decided, claim] = [d.publish.find((p) => p.topic.endsWith('decided'))!, d.publish.find((p) => p.topic.endsWith('claim'))!]
    expect(JSON.parse(claim.payload)).toStrictEqual({ factId: f.id, by: 'mummy', at: new Date(T0 + 1000).toISOString() })
    expect(JSON.parse(decided.payload)).toMatchObject({ type: 'household.decided', subject: 'household/mummy', causationid: f.id, correlationid: f.id, seq: 100, data: { decision: 'claim', reason: 'open' } })
    expect(d.state.open[f.id]).toMatchObject({ iClaimed: true, claimedBy: null })
    expect(d.state.seq).toBe(101)
  })

  it('skips a fact whose state has moved on, as resolved, without claiming', () => {
    const f = empty(1)
    const d = decide(start(), { kind: 'fact', fact: f, state: { value: 'full', seq: 2, since: f.time, factId: f.id }, claim: null, presence: null }, T0)
    expect(payloads(d)).toHaveLength(1)
    expect((payloads(d)[0] as Fact).data).toMatchObject({ decision: 'skip', reason: 'resolved' })
    expect(d.state.open).toStrictEqual({})
  })

  it('decides once on a fact delivered twice', () => {
    const f = empty()
    const input = { kind: 'fact' as const, fact: f, state: null, claim: null, presence: null }
    const first = decide(start(), input, T0)
    const again = decide(first.state, input, T0 + 5)
    expect(again).toStrictEqual({ state: first.state, publish: [], ignored: 'duplicate' })
  })

  it('does not claim again a fact it already claimed before a restart', () => {
    const f = empty()
    const d = decide(start(), { kind: 'fact', fact: f, state: null, claim: { factId: f.id, by: 'mummy', at: f.time }, presence: null }, T0)
    expect(d.publish.map((p) => p.topic)).toStrictEqual(['household/mummy/fact/decided'])
    expect((payloads(d)[0] as Fact).data).toMatchObject({ decision: 'claim', reason: 'mine' })
  })

  it('stands down when someone else holds the claim, and when busy or away does not claim', () => {
    const f = empty()
    const claimed = decide(start(), { kind: 'fact', fact: f, state: null, claim: { factId: f.id, by: 'daddy', at: f.time }, presence: null }, T0)
    expect((payloads(claimed)[0] as Fact).data).toMatchObject({ decision: 'stand-down', reason: 'claimed' })
    for (const presence of ['busy', 'away'] as const) {
      const d = decide(start(), { kind: 'fact', fact: f, state: null, claim: null, presence }, T0)
      expect(d.publish.map((p) => p.topic)).toStrictEqual(['household/mummy/fact/decided'])
      expect((payloads(d)[0] as Fact).data).toMatchObject({ decision: 'skip', reason: presence })
    }
  })

  it('takes the first claim seen as the winner and stands down if it lost the race', () => {
    const f = empty()
    const s1 = decide(start(), { kind: 'fact', fact: f, state: null, claim: null, presence: null }, T0).state
    const lost = decide(s1, { kind: 'claim', subject: f.subject, claim: { factId: f.id, by: 'daddy', at: f.time } }, T0)
    expect((payloads(lost)[0] as Fact).data).toMatchObject({ decision: 'stand-down', reason: 'lost-race' })
    const later = decide(lost.state, { kind: 'claim', subject: f.subject, claim: { factId: f.id, by: 'mummy', at: f.time } }, T0)
    expect(later.publish).toStrictEqual([])
    expect(later.state.open[f.id]!.claimedBy).toBe('daddy')
  })

  it('remembers a claim seen before its fact, and stands down for it', () => {
    const f = empty()
    const s = decide(start(), { kind: 'claim', subject: f.subject, claim: { factId: f.id, by: 'daddy', at: f.time } }, T0).state
    const d = decide(s, { kind: 'fact', fact: f, state: null, claim: null, presence: null }, T0)
    expect(d.publish.map((p) => p.topic)).toStrictEqual(['household/mummy/fact/decided'])
    expect((payloads(d)[0] as Fact).data).toMatchObject({ decision: 'stand-down', reason: 'claimed', detail: 'daddy claimed it first' })
  })

  it('clears its own claim when the state moves on', () => {
    const f = empty()
    let s = decide(start(), { kind: 'fact', fact: f, state: null, claim: null, presence: null }, T0).state
    s = decide(s, { kind: 'claim', subject: f.subject, claim: { factId: f.id, by: 'mummy', at: f.time } }, T0).state
    const d = decide(s, { kind: 'state', subject: f.subject, state: { value: 'full', seq: 2, since: f.time, factId: f.id } }, T0)
    const clear = d.publish.find((p) => p.topic === 'home/kitchen/lily-cup/claim')
    expect(clear).toStrictEqual({ topic: 'home/kitchen/lily-cup/claim', payload: '', qos: 1, retain: true })
    expect(d.state.open).toStrictEqual({})
  })

  it('leaves the claim topic alone when a claim for a newer fact has replaced its own', () => {
    const f = empty()
    let s = decide(start(), { kind: 'fact', fact: f, state: null, claim: null, presence: null }, T0).state
    s = decide(s, { kind: 'claim', subject: f.subject, claim: { factId: f.id, by: 'mummy', at: f.time } }, T0).state
    s = decide(s, { kind: 'claim', subject: f.subject, claim: { factId: '01JDX00000000000000000NEWR', by: 'daddy', at: f.time } }, T0).state
    const d = decide(s, { kind: 'state', subject: f.subject, state: { value: 'empty', seq: 3, since: f.time, factId: '01JDX00000000000000000NEWR' } }, T0)
    expect(d.publish.map((p) => p.topic)).toStrictEqual(['household/mummy/fact/decided'])
  })

  it('escalates at the policy time, once per step, only to the members a step names', () => {
    const f = empty()
    let s = decide(start(), { kind: 'fact', fact: f, state: null, claim: null, presence: 'busy' }, T0).state
    expect(nextDue(s)).toStrictEqual({ factId: f.id, at: T0 + 60_000 })
    expect(dueFacts(s, T0 + 59_999)).toStrictEqual([])
    const d = decide(s, { kind: 'due', factId: f.id, state: null, claim: null }, T0 + 60_000)
    const esc = payloads(d) as Fact[]
    expect(esc.map((x) => x.data)).toStrictEqual([{
      member: 'mummy', factId: f.id, factType: 'cup.empty', subject: 'home/kitchen/lily-cup', step: 1, priority: 'high', due: new Date(T0 + 60_000).toISOString(), detail: 'nobody claimed cup.empty on home/kitchen/lily-cup within 60 s'
    }])
    expect(esc[0]!.id).toBe(stableId(T0 + 60_000, `${f.id}/mummy/1`))
    s = d.state
    // Step 2 is for grandparents only: nothing more for Mummy.
    expect(nextDue(s)).toBeNull()
    expect(decide(s, { kind: 'due', factId: f.id, state: null, claim: null }, T0 + 400_000).publish).toStrictEqual([])
    // Grandma, restarted after both deadlines, still fires each step once.
    let g = decide(start(grandma), { kind: 'recover', things: [{ subject: f.subject, state: stateOf(f, 'empty'), claim: null }] }, T0 + 400_000).state
    const both = decide(g, { kind: 'due', factId: f.id, state: stateOf(f, 'empty'), claim: null }, T0 + 400_000)
    expect((payloads(both) as Fact[]).map((x) => (x.data as { step: number }).step)).toStrictEqual([1, 2])
    g = both.state
    expect(nextDue(g)).toBeNull()
  })

  it('does not escalate a fact that is claimed or resolved by the time it is due', () => {
    const f = empty()
    const s = decide(start(), { kind: 'fact', fact: f, state: null, claim: null, presence: 'busy' }, T0).state
    expect(decide(s, { kind: 'due', factId: f.id, state: null, claim: { factId: f.id, by: 'daddy', at: f.time } }, T0 + 60_000).publish).toStrictEqual([])
    const resolved = decide(s, { kind: 'due', factId: f.id, state: { value: 'full', seq: 2, since: f.time, factId: f.id }, claim: null }, T0 + 60_000)
    expect(resolved).toStrictEqual({ state: { ...s, open: {} }, publish: [] })
  })

  it('defers steps below the bypass priority until quiet hours end', () => {
    const night = new Date(2026, 10, 29, 23, 0).getTime()
    const quiet = { quietHours: { start: '22:00', end: '07:00' }, bypassQuietHours: 'urgent' as const }
    expect(quietUntil(night, quiet.quietHours)).toBe(new Date(2026, 10, 30, 7, 0).getTime())
    expect(quietUntil(new Date(2026, 10, 29, 12, 0).getTime(), quiet.quietHours)).toBeNull()
    expect(stepDue(night, { afterSeconds: 60, notify: {}, priority: 'high' }, quiet)).toBe(new Date(2026, 10, 30, 7, 0).getTime())
    expect(stepDue(night, { afterSeconds: 60, notify: {}, priority: 'urgent' }, quiet)).toBe(night + 60_000)
  })
})
