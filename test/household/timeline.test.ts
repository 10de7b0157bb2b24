import { describe, expect, it } from 'vitest'
import { makeFact } from '#client'
import { timelineLine } from '../../services/household/timeline.ts'

describe('the demo timeline', () => {
  it('says who saw which fact, what they decided and why', () => {
    const fact = makeFact('household.decided', {
      subject: 'household/daddy',
      source: 'services/household/daddy',
      seq: 7,
      data: { member: 'daddy', decision: 'skip', reason: 'resolved', detail: 'already resolved', fact: { id: '01JDX00000000000000000ABCD', type: 'cup.empty', subject: 'home/kitchen/lily-cup', seq: 2 } }
    })
    expect(timelineLine('household/daddy/fact/decided', JSON.stringify(fact), 5000)).toBe('[  5.0s]  daddy    saw cup.empty …00ABCD (seq 2) → SKIP [resolved]: already resolved')
  })

  it('says what a deferred decision still waits for', () => {
    const fact = makeFact('household.decided', {
      subject: 'household/daddy',
      source: 'services/household/daddy',
      seq: 8,
      data: { member: 'daddy', decision: 'deferred', reason: 'no-state', detail: 'no state of home/kitchen/lily-cup yet within 2000 ms: not claiming; I will decide when it arrives', fact: { id: '01JDX00000000000000000ABCD', type: 'cup.empty', subject: 'home/kitchen/lily-cup', seq: 2 } }
    })
    expect(timelineLine('household/daddy/fact/decided', JSON.stringify(fact), 5000)).toBe('[  5.0s]  daddy    saw cup.empty …00ABCD (seq 2) → DEFERRED [no-state]: no state of home/kitchen/lily-cup yet within 2000 ms: not claiming; I will decide when it arrives')
  })

  it('shows claims, cleared claims and states, and nothing for topics outside the story', () => {
    expect(timelineLine('home/kitchen/lily-cup/claim', '{"factId":"01JDX00000000000000000ABCD","by":"mummy","at":"x"}', 0)).toBe('[  0.0s]  lily-cup claimed by mummy (fact …00ABCD)')
    expect(timelineLine('home/kitchen/lily-cup/claim', '', 0)).toBe('[  0.0s]  lily-cup claim cleared')
    expect(timelineLine('home/kitchen/lily-cup/state', '{"value":"full","seq":3}', 100)).toBe('[  0.1s]  lily-cup state is now "full" (seq 3)')
    expect(timelineLine('$SYS/x', 'y', 0)).toBeNull()
    expect(timelineLine('household/mummy/fact/decided', 'not json', 0)).toBeNull()
  })

  it('shows an offer to a member and its withdrawal', () => {
    const offer = makeFact('household.offered', {
      subject: 'notify/mummy',
      source: 'services/household/mummy',
      seq: 9,
      data: { member: 'mummy', factId: '01JDX00000000000000000ABCD', factType: 'cup.empty', factSeq: 2, subject: 'home/kitchen/lily-cup', priority: 'normal', detail: 'asking mummy' }
    })
    expect(timelineLine('notify/mummy/fact/offered', JSON.stringify(offer), 1200)).toBe('[  1.2s]  mummy    asked: "I\'ll do it?" for cup.empty …00ABCD on home/kitchen/lily-cup')
    const withdrawn = makeFact('household.offer-withdrawn', {
      subject: 'notify/daddy',
      source: 'services/household/daddy',
      seq: 10,
      data: { member: 'daddy', factId: '01JDX00000000000000000ABCD', subject: 'home/kitchen/lily-cup', reason: 'claimed', detail: 'claimed by mummy' }
    })
    expect(timelineLine('notify/daddy/fact/offer-withdrawn', JSON.stringify(withdrawn), 1500)).toBe('[  1.5s]  daddy    offer withdrawn (claimed: claimed by mummy) for fact …00ABCD')
  })
})
