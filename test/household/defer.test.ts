import { describe, expect, it } from 'vitest'
import { Codes, type Fact } from '#contract'
import type { Seen } from '#client'
import { decide, missingEvidence } from '../../services/household/decide.ts'
import { T0, SUBJECT, changed, claim, empty, full, payloads, start, stateOf, verdicts, view, type Held } from './fixtures.ts'

const unreadable = <T>(payload: string): Seen<T> => ({ status: 'unreadable', replayed: true, error: { code: Codes.NOT_JSON, message: 'payload is not JSON', issues: [] }, payload })

describe('decide() without positive evidence', () => {
  it('defers a fact with no state yet, without claiming, then claims it when its state arrives', () => {
    const f = empty()
    const d = decide(start(), { kind: 'fact', fact: f, seen: view({ presence: 'home' }) }, T0)
    expect(d.publish.map((p) => p.topic)).toStrictEqual(['household/mummy/fact/decided'])
    expect((payloads(d)[0] as Fact<'household.decided'>).data).toStrictEqual({
      member: 'mummy',
      decision: 'deferred',
      reason: 'no-state',
      detail: 'no state of home/kitchen/lily-cup yet within 500 ms: not claiming; I will decide when it arrives',
      fact: { id: f.id, type: 'cup.empty', subject: SUBJECT, seq: 1 }
    })
    expect(Object.keys(d.state.waiting)).toStrictEqual([f.id])
    expect(d.state.open).toStrictEqual({})
    // The fact is handled (acknowledged): a redelivery changes nothing.
    expect(decide(d.state, { kind: 'fact', fact: f, seen: view({ presence: 'home' }) }, T0).ignored).toBe('duplicate')
    const arrived = { state: stateOf(f), presence: 'home' as const }
    const later = decide(d.state, { kind: 'changed', change: changed('state', arrived), seen: view(arrived) }, T0 + 1500)
    expect(later.publish.map((p) => p.topic)).toStrictEqual(['home/kitchen/lily-cup/claim', 'household/mummy/fact/decided'])
    expect(verdicts(later)).toStrictEqual([{ decision: 'claim', reason: 'open' }])
    expect(later.state.waiting).toStrictEqual({})
    expect(later.state.open[f.id]).toMatchObject({ iClaimed: true, pending: null })
  })

  it('defers a fact whose state is older, and skips it as resolved when a newer state arrives', () => {
    const f = empty(5)
    const older = { ...stateOf(f), seq: 4, factId: '01JDX000000000000000000OLD' }
    const d = decide(start(), { kind: 'fact', fact: f, seen: view({ state: older, presence: 'home' }) }, T0)
    expect(verdicts(d)).toStrictEqual([{ decision: 'deferred', reason: 'old-state' }])
    // Still older: nothing new is said.
    const stillOld = { state: { ...older, seq: 4 }, presence: 'home' as const }
    expect(decide(d.state, { kind: 'changed', change: changed('state', stillOld), seen: view(stillOld) }, T0).publish).toStrictEqual([])
    const moved = { state: full(f), presence: 'home' as const }
    const later = decide(d.state, { kind: 'changed', change: changed('state', moved), seen: view(moved) }, T0 + 1)
    expect(verdicts(later)).toStrictEqual([{ decision: 'skip', reason: 'resolved' }])
    expect(later.publish.filter((p) => p.topic.endsWith('/claim'))).toStrictEqual([])
    expect(later.state.waiting).toStrictEqual({})
  })

  it('never takes an unreadable state, presence or claim as none', () => {
    const f = empty()
    const cases: [Held, string][] = [
      [{ state: unreadable('{nope'), presence: 'home' }, 'unreadable-state'],
      [{ state: stateOf(f), presence: unreadable('maybe') }, 'unreadable-presence'],
      [{ state: stateOf(f), claim: unreadable('{"by":'), presence: 'home' }, 'unreadable-claim']
    ]
    for (const [held, reason] of cases) {
      const d = decide(start(), { kind: 'fact', fact: f, seen: view(held) }, T0)
      expect(verdicts(d)).toStrictEqual([{ decision: 'deferred', reason }])
      expect(d.publish.filter((p) => p.topic.endsWith('/claim'))).toStrictEqual([])
    }
  })

  it('waits for its presence like a state: defers with none, then decides when it arrives', () => {
    const f = empty()
    const d = decide(start(), { kind: 'fact', fact: f, seen: view({ state: stateOf(f) }) }, T0)
    expect(verdicts(d)).toStrictEqual([{ decision: 'deferred', reason: 'no-presence' }])
    expect(d.state.open[f.id]).toMatchObject({ pending: 'no-presence', iClaimed: false })
    for (const [presence, verdict] of [['home', { decision: 'claim', reason: 'open' }], ['busy', { decision: 'skip', reason: 'busy' }]] as const) {
      const held = { state: stateOf(f), presence }
      const later = decide(d.state, { kind: 'changed', change: changed('presence', held), seen: view(held) }, T0 + 100)
      expect(verdicts(later)).toStrictEqual([verdict])
      expect(later.state.open[f.id]!.pending).toBeNull()
    }
    // Someone else's presence changes nothing.
    const other = { state: stateOf(f), presence: 'home' as const }
    expect(decide(d.state, { kind: 'changed', change: changed('presence', other, 'daddy'), seen: view(other) }, T0).publish).toStrictEqual([])
  })

  it('stands down a fact deferred for presence once someone else claims it, and skips it once it resolves', () => {
    const f = empty()
    const s = decide(start(), { kind: 'fact', fact: f, seen: view({ state: stateOf(f) }) }, T0).state
    const held = { state: stateOf(f), claim: claim(f, 'daddy') }
    expect(verdicts(decide(s, { kind: 'changed', change: changed('claim', held), seen: view(held) }, T0))).toStrictEqual([{ decision: 'stand-down', reason: 'claimed' }])
    const refilled = { state: full(f) }
    expect(verdicts(decide(s, { kind: 'changed', change: changed('state', refilled), seen: view(refilled) }, T0))).toStrictEqual([{ decision: 'skip', reason: 'resolved' }])
  })

  it('says which evidence a decision still needs', () => {
    const f = empty()
    const s = start()
    expect(missingEvidence(s, f, view({}))).toBe('no-state')
    expect(missingEvidence(s, f, view({ state: stateOf(f) }))).toBe('no-presence')
    expect(missingEvidence(s, f, view({ state: stateOf(f), presence: 'home' }))).toBeNull()
    expect(missingEvidence(s, f, view({ state: full(f) }))).toBeNull()
    expect(missingEvidence(s, f, view({ state: stateOf(f), claim: claim(f, 'daddy') }))).toBeNull()
  })
})
