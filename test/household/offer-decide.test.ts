import { describe, expect, it } from 'vitest'
import { decide } from '../../services/household/decide.ts'
import { initialState } from '../../services/household/decide.ts'
import { HouseholdConfig } from '../../services/household/config.ts'
import { T0, changed, claim, empty, full, stateOf, view } from './fixtures.ts'

/** Daddy did not choose `auto`: his agent asks him. */
const household = HouseholdConfig.parse({ members: [{ name: 'daddy' }], evidenceTimeoutMs: 500 })
const daddy = () => initialState(household.members[0]!, household, 100)
const topics = (d: { publish: { topic: string }[] }) => d.publish.map((p) => p.topic)

describe('decide() for a member whose agent asks instead of claiming', () => {
  it('offers an open fact on notify/<member>/fact/offered, and publishes no claim', () => {
    const f = empty()
    const d = decide(daddy(), { kind: 'fact', fact: f, seen: view({ state: stateOf(f), presence: 'home' }) }, T0 + 10)
    expect(topics(d)).toStrictEqual(['notify/daddy/fact/offered', 'household/daddy/fact/decided'])
    const offer = JSON.parse(d.publish[0]!.payload)
    expect(offer).toMatchObject({ type: 'household.offered', subject: 'notify/daddy', seq: 100, causationid: f.id, correlationid: f.id })
    expect(JSON.parse(d.publish[1]!.payload).data).toMatchObject({ decision: 'offer', reason: 'open' })
    expect(d.state.open[f.id]).toMatchObject({ offered: true, iClaimed: false, claimedBy: null })
  })

  it('offers a fact delivered twice only once', () => {
    const f = empty()
    const first = decide(daddy(), { kind: 'fact', fact: f, seen: view({ state: stateOf(f), presence: 'home' }) }, T0)
    const again = decide(first.state, { kind: 'fact', fact: f, seen: view({ state: stateOf(f), presence: 'home' }) }, T0)
    expect(again).toMatchObject({ publish: [], ignored: 'duplicate' })
  })

  it('withdraws the offer when someone else claims, and keeps it when the member claims', () => {
    const f = empty()
    const s = decide(daddy(), { kind: 'fact', fact: f, seen: view({ state: stateOf(f), presence: 'home' }) }, T0).state
    const other = decide(s, { kind: 'changed', change: changed('claim', { claim: claim(f, 'mummy') }), seen: view({ state: stateOf(f), claim: claim(f, 'mummy'), presence: 'home' }) }, T0 + 5)
    expect(topics(other)).toStrictEqual(['notify/daddy/fact/offer-withdrawn'])
    expect(JSON.parse(other.publish[0]!.payload).data).toStrictEqual({ member: 'daddy', factId: f.id, subject: 'home/kitchen/lily-cup', reason: 'claimed', detail: 'claimed by mummy' })
    const mine = decide(s, { kind: 'changed', change: changed('claim', { claim: claim(f, 'daddy') }), seen: view({ state: stateOf(f), claim: claim(f, 'daddy'), presence: 'home' }) }, T0 + 5)
    expect(mine.publish).toStrictEqual([])
    expect(mine.state.open[f.id]).toMatchObject({ offered: true, claimedBy: 'daddy' })
  })

  it('withdraws the offer, the claimant\'s too, when the fact resolves', () => {
    const f = empty()
    const s0 = decide(daddy(), { kind: 'fact', fact: f, seen: view({ state: stateOf(f), presence: 'home' }) }, T0).state
    const s = decide(s0, { kind: 'changed', change: changed('claim', { claim: claim(f, 'daddy') }), seen: view({ state: stateOf(f), claim: claim(f, 'daddy'), presence: 'home' }) }, T0).state
    const d = decide(s, { kind: 'changed', change: changed('state', { state: full(f) }), seen: view({ state: full(f), claim: claim(f, 'daddy'), presence: 'home' }) }, T0 + 9)
    expect(topics(d)).toStrictEqual(['notify/daddy/fact/offer-withdrawn', 'household/daddy/fact/decided'])
    expect(JSON.parse(d.publish[0]!.payload).data).toMatchObject({ reason: 'resolved' })
    expect(JSON.parse(d.publish[1]!.payload).data).toMatchObject({ decision: 'done', reason: 'resolved' })
  })
})
