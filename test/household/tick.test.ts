import { describe, expect, it } from 'vitest'
import type { Fact } from '#contract'
import { decide, nextDue } from '../../services/household/decide.ts'
import { quietUntil, stableId, stepDue } from '../../services/household/policy.ts'
import { T0, changed, claim, empty, full, grandma, payloads, start, stateOf, view } from './fixtures.ts'

describe('escalation and recovery, from the mirror', () => {
  it('escalates at the policy time, once per step, only to the members a step names', () => {
    const f = empty()
    const open = { state: stateOf(f), presence: 'busy' as const }
    let s = decide(start(), { kind: 'fact', fact: f, seen: view(open) }, T0).state
    expect(nextDue(s)).toStrictEqual({ factId: f.id, at: T0 + 60_000 })
    expect(decide(s, { kind: 'tick', seen: view(open) }, T0 + 59_999).publish).toStrictEqual([])
    const d = decide(s, { kind: 'tick', seen: view(open) }, T0 + 60_000)
    const esc = payloads(d) as Fact[]
    expect(d.publish.map((p) => [p.topic, p.qos, p.retain])).toStrictEqual([['household/mummy/fact/escalated', 1, false]])
    expect(esc.map((x) => x.data)).toStrictEqual([{
      member: 'mummy', factId: f.id, factType: 'cup.empty', factSeq: f.seq, subject: 'home/kitchen/lily-cup', step: 1, priority: 'high', due: new Date(T0 + 60_000).toISOString(), detail: 'nobody claimed cup.empty on home/kitchen/lily-cup within 60 s'
    }])
    expect(esc[0]!.id).toBe(stableId(T0 + 60_000, `${f.id}/mummy/1`))
    s = d.state
    // Step 2 is for grandparents only: nothing more for Mummy.
    expect(nextDue(s)).toBeNull()
    expect(decide(s, { kind: 'tick', seen: view(open) }, T0 + 400_000).publish).toStrictEqual([])
  })

  it('rebuilds an open fact from the state that names it after a restart, and fires each step once', () => {
    const f = empty()
    const held = { state: stateOf(f), presence: 'away' as const }
    // Grandma restarts after both deadlines; the mirror's state names the fact.
    let g = decide(start(grandma), { kind: 'changed', change: changed('state', held), seen: view(held) }, T0 + 400_000).state
    expect(g.open[f.id]).toMatchObject({ factId: f.id, type: 'cup.empty', seq: 1, time: T0, claimedBy: null, pending: null, stepsDone: 0 })
    const both = decide(g, { kind: 'tick', seen: view(held) }, T0 + 400_000)
    expect((payloads(both) as Fact[]).map((x) => (x.data as { step: number }).step)).toStrictEqual([1, 2])
    g = both.state
    expect(nextDue(g)).toBeNull()
  })

  it('rebuilds an open fact as claimed when the mirror holds its claim, and does not escalate it', () => {
    const f = empty()
    const held = { state: stateOf(f), claim: claim(f, 'daddy') }
    const s = decide(start(), { kind: 'changed', change: changed('state', held), seen: view(held) }, T0).state
    expect(s.open[f.id]).toMatchObject({ claimedBy: 'daddy' })
    expect(nextDue(s)).toBeNull()
  })

  it('does not escalate a fact that is claimed or resolved by the time it is due', () => {
    const f = empty()
    const s = decide(start(), { kind: 'fact', fact: f, seen: view({ state: stateOf(f), presence: 'busy' }) }, T0).state
    const claimed = decide(s, { kind: 'tick', seen: view({ state: stateOf(f), claim: claim(f, 'daddy') }) }, T0 + 60_000)
    expect(claimed.publish).toStrictEqual([])
    expect(nextDue(claimed.state)).toBeNull()
    const resolved = decide(s, { kind: 'tick', seen: view({ state: full(f) }) }, T0 + 60_000)
    expect(resolved).toStrictEqual({ state: { ...s, open: {} }, publish: [] })
  })

  it('escalates a fact deferred for presence: it is known to be open', () => {
    const f = empty()
    const s = decide(start(), { kind: 'fact', fact: f, seen: view({ state: stateOf(f) }) }, T0).state
    expect(nextDue(s)).toStrictEqual({ factId: f.id, at: T0 + 60_000 })
  })

  it('does not escalate a fact deferred for want of its state', () => {
    const s = decide(start(), { kind: 'fact', fact: empty(), seen: view({ presence: 'home' }) }, T0).state
    expect(nextDue(s)).toBeNull()
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
