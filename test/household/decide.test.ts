import { describe, expect, it } from 'vitest'
import type { Fact } from '#contract'
import { decide } from '../../services/household/decide.ts'
import { T0, SUBJECT, changed, claim, empty, full, payloads, start, stateOf, verdicts, view } from './fixtures.ts'

describe('decide() on positive evidence', () => {
  it('claims an open fact nobody has claimed when home, and says why', () => {
    const f = empty()
    const d = decide(start(), { kind: 'fact', fact: f, seen: view({ state: stateOf(f), presence: 'home' }) }, T0 + 1000)
    expect(d.publish.map((p) => [p.topic, p.retain, p.qos])).toStrictEqual([
      ['home/kitchen/lily-cup/claim', true, 1],
      ['household/mummy/fact/decided', false, 1]
    ])
    const [claimed, decided] = payloads(d) as [unknown, Fact]
    expect(claimed).toStrictEqual({ factId: f.id, by: 'mummy', at: new Date(T0 + 1000).toISOString() })
    expect(decided).toMatchObject({ type: 'household.decided', subject: 'household/mummy', causationid: f.id, correlationid: f.id, seq: 100 })
    expect(decided.data).toStrictEqual({
      member: 'mummy',
      decision: 'claim',
      reason: 'open',
      detail: "still open (seq 1), nobody has claimed it and I am home: I'll handle it",
      fact: { id: f.id, type: 'cup.empty', subject: SUBJECT, seq: 1 }
    })
    expect(d.state.open[f.id]).toMatchObject({ iClaimed: true, claimedBy: null, pending: null })
    expect(d.state.seq).toBe(101)
  })

  it('skips a fact whose state has moved on, as resolved, without claiming', () => {
    const f = empty(1)
    const d = decide(start(), { kind: 'fact', fact: f, seen: view({ state: full(f), presence: 'home' }) }, T0)
    expect(d.publish.map((p) => p.topic)).toStrictEqual(['household/mummy/fact/decided'])
    expect(verdicts(d)).toStrictEqual([{ decision: 'skip', reason: 'resolved' }])
    expect(d.state.open).toStrictEqual({})
  })

  it('skips as resolved a fact whose state names another fact with the same seq, even with no presence', () => {
    const f = empty(4)
    const d = decide(start(), { kind: 'fact', fact: f, seen: view({ state: { ...stateOf(f), factId: '01JDX0000000000000000OTHER' } }) }, T0)
    expect(verdicts(d)).toStrictEqual([{ decision: 'skip', reason: 'resolved' }])
  })

  it('decides once on a fact delivered twice', () => {
    const f = empty()
    const input = { kind: 'fact' as const, fact: f, seen: view({ state: stateOf(f), presence: 'home' }) }
    const first = decide(start(), input, T0)
    const again = decide(first.state, input, T0 + 5)
    expect(again).toStrictEqual({ state: first.state, publish: [], ignored: 'duplicate' })
  })

  it('does not claim again a fact it already claimed before a restart', () => {
    const f = empty()
    const d = decide(start(), { kind: 'fact', fact: f, seen: view({ state: stateOf(f), claim: claim(f, 'mummy'), presence: 'home' }) }, T0)
    expect(d.publish.map((p) => p.topic)).toStrictEqual(['household/mummy/fact/decided'])
    expect(verdicts(d)).toStrictEqual([{ decision: 'claim', reason: 'mine' }])
    expect(d.state.open[f.id]).toMatchObject({ claimedBy: 'mummy', iClaimed: true })
  })

  it('stands down when someone else holds the claim, and when busy or away does not claim', () => {
    const f = empty()
    const claimed = decide(start(), { kind: 'fact', fact: f, seen: view({ state: stateOf(f), claim: claim(f, 'daddy') }) }, T0)
    expect(verdicts(claimed)).toStrictEqual([{ decision: 'stand-down', reason: 'claimed' }])
    for (const presence of ['busy', 'away'] as const) {
      const d = decide(start(), { kind: 'fact', fact: f, seen: view({ state: stateOf(f), presence }) }, T0)
      expect(d.publish.map((p) => p.topic)).toStrictEqual(['household/mummy/fact/decided'])
      expect(verdicts(d)).toStrictEqual([{ decision: 'skip', reason: presence }])
    }
  })

  it('takes a claim for an older fact as no claim on this one', () => {
    const f = empty(3)
    const d = decide(start(), { kind: 'fact', fact: f, seen: view({ state: stateOf(f), claim: { ...claim(f, 'daddy'), factId: '01JDX000000000000000000OLD' }, presence: 'home' }) }, T0)
    expect(verdicts(d)).toStrictEqual([{ decision: 'claim', reason: 'open' }])
  })

  it('skips as not allowed without waiting for presence when the policy leaves its role out', () => {
    const f = empty()
    const s = { ...start(), household: { ...start().household, policies: { 'cup.empty': { mayClaim: ['grandparent'], auto: [], escalation: [] } } } }
    const d = decide(s, { kind: 'fact', fact: f, seen: view({ state: stateOf(f) }) }, T0)
    expect(verdicts(d)).toStrictEqual([{ decision: 'skip', reason: 'not-allowed' }])
  })
})

describe('decide() on claims as the responder sees them', () => {
  const claimedOpen = (f: Fact) => decide(start(), { kind: 'fact', fact: f, seen: view({ state: stateOf(f), presence: 'home' }) }, T0).state

  it('takes the first claim seen as the winner and stands down if it lost the race', () => {
    const f = empty()
    const held = { state: stateOf(f), claim: claim(f, 'daddy') }
    const lost = decide(claimedOpen(f), { kind: 'changed', change: changed('claim', held), seen: view(held) }, T0)
    expect(verdicts(lost)).toStrictEqual([{ decision: 'stand-down', reason: 'lost-race' }])
    const mine = { state: stateOf(f), claim: claim(f, 'mummy') }
    const later = decide(lost.state, { kind: 'changed', change: changed('claim', mine), seen: view(mine) }, T0)
    expect(later.publish).toStrictEqual([])
    expect(later.state.open[f.id]!.claimedBy).toBe('daddy')
  })

  it('takes a refused claim as a lost race, once, and never claims it again', () => {
    const f = empty()
    const refused = decide(claimedOpen(f), { kind: 'refused', factId: f.id, why: 'HF_CLAIMED: fact is already claimed by "daddy"' }, T0)
    const [out] = payloads(refused) as [Fact<'household.decided'>]
    expect(out.data).toMatchObject({ decision: 'stand-down', reason: 'lost-race', detail: 'the broker refused my claim: HF_CLAIMED: fact is already claimed by "daddy"' })
    expect(refused.state.open[f.id]).toMatchObject({ iClaimed: false, claimedBy: null })
    // The winner's claim (or a dead letter after a PUBACK refusal) then adds nothing.
    expect(decide(refused.state, { kind: 'refused', factId: f.id, why: 'again' }, T0).publish).toStrictEqual([])
    const held = { state: stateOf(f), claim: claim(f, 'daddy') }
    const seenWinner = decide(refused.state, { kind: 'changed', change: changed('claim', held), seen: view(held) }, T0)
    expect(seenWinner.publish).toStrictEqual([])
    expect(seenWinner.state.open[f.id]!.claimedBy).toBe('daddy')
  })

  it('remembers a claim seen before its fact, and stands down for it', () => {
    const f = empty()
    const held = { state: stateOf(f), claim: claim(f, 'daddy') }
    const s = decide(start(), { kind: 'changed', change: changed('claim', held), seen: view(held) }, T0).state
    const d = decide(s, { kind: 'fact', fact: f, seen: view({ state: stateOf(f), claim: { status: 'cleared', replayed: false }, presence: 'home' }) }, T0)
    expect(d.publish.map((p) => p.topic)).toStrictEqual(['household/mummy/fact/decided'])
    expect((payloads(d)[0] as Fact<'household.decided'>).data).toMatchObject({ decision: 'stand-down', reason: 'claimed', detail: 'daddy claimed it first' })
  })

  it('is done when its claimed fact resolves, and clears the claim only if the broker has not', () => {
    const f = empty()
    const mine = { state: stateOf(f), claim: claim(f, 'mummy') }
    let s = decide(claimedOpen(f), { kind: 'changed', change: changed('claim', mine), seen: view(mine) }, T0).state
    const refilled = { state: full(f), claim: claim(f, 'mummy') }
    const done = decide(s, { kind: 'changed', change: changed('state', refilled), seen: view(refilled) }, T0 + 10)
    expect(verdicts(done)).toStrictEqual([{ decision: 'done', reason: 'resolved' }])
    expect(done.state.open).toStrictEqual({})
    expect(done.state.clearing).toStrictEqual({ [f.id]: { factId: f.id, subject: SUBJECT, at: T0 + 10 + 1000 } })
    s = done.state
    // A broker with homefacts' claim rules (the hub) clears it: nothing left to do.
    const cleared = { state: full(f), claim: { status: 'cleared' as const, replayed: false } }
    const byBroker = decide(s, { kind: 'changed', change: changed('claim', cleared), seen: view(cleared) }, T0 + 20)
    expect(byBroker.state.clearing).toStrictEqual({})
    expect(decide(byBroker.state, { kind: 'tick', seen: view(cleared) }, T0 + 2000).publish).toStrictEqual([])
    // Another broker leaves it: the holder clears it once the wait is over.
    expect(decide(s, { kind: 'tick', seen: view(refilled) }, T0 + 1009).publish).toStrictEqual([])
    const byMe = decide(s, { kind: 'tick', seen: view(refilled) }, T0 + 1010)
    expect(byMe.publish).toStrictEqual([{ topic: 'home/kitchen/lily-cup/claim', payload: '', qos: 1, retain: true }])
    expect(byMe.state.clearing).toStrictEqual({})
  })

  it('leaves the claim topic alone when a claim for a newer fact has replaced its own', () => {
    const f = empty()
    const mine = { state: stateOf(f), claim: claim(f, 'mummy') }
    let s = decide(claimedOpen(f), { kind: 'changed', change: changed('claim', mine), seen: view(mine) }, T0).state
    const refilled = { state: full(f), claim: claim(f, 'mummy') }
    s = decide(s, { kind: 'changed', change: changed('state', refilled), seen: view(refilled) }, T0).state
    const newer = { state: { ...full(f, 3), value: 'empty', factId: '01JDX00000000000000000NEWR' }, claim: { factId: '01JDX00000000000000000NEWR', by: 'daddy', at: f.time } }
    expect(decide(s, { kind: 'tick', seen: view(newer) }, T0 + 5000).publish).toStrictEqual([])
  })
})
