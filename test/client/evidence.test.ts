import { describe, expect, it } from 'vitest'
import { Codes, type ThingState } from '#contract'
import { evidence, setsState, type Evidence, type FactRef, type Seen } from '#client'

const FACT = '01JDX000000000000000000FCT'
const OTHER = '01JDX00000000000000000OTHR'
const fact: FactRef = { id: FACT, type: 'cup.empty', seq: 5 }
const state = (seq: number, factId = OTHER, value = 'full'): ThingState => ({ value, seq, since: '2026-11-29T14:00:00.000Z', factId })
const held = (s: ThingState): Seen<ThingState> => ({ status: 'value', value: s, replayed: true })

describe('the evidence rule', () => {
  const table: [string, Seen<ThingState> | undefined, Evidence][] = [
    ['the state names the fact: open', held(state(5, FACT, 'empty')), { verdict: 'open', state: state(5, FACT, 'empty') }],
    ['the state names the fact, whatever its seq: open', held(state(4, FACT, 'empty')), { verdict: 'open', state: state(4, FACT, 'empty') }],
    ['a higher seq: resolved', held(state(6)), { verdict: 'resolved', state: state(6) }],
    ['another fact with the same seq: resolved', held(state(5)), { verdict: 'resolved', state: state(5) }],
    ['an older state (lower seq): unknown, wait', held(state(4)), { verdict: 'unknown', reason: 'old-state', state: state(4) }],
    ['nothing seen yet: unknown, never open', undefined, { verdict: 'unknown', reason: 'no-state', state: null }],
    ['a cleared state: unknown', { status: 'cleared', replayed: false }, { verdict: 'unknown', reason: 'no-state', state: null }],
    ['an unreadable state: unknown, never none', { status: 'unreadable', replayed: true, error: { code: Codes.NOT_JSON, message: 'x', issues: [] }, payload: '{' }, { verdict: 'unknown', reason: 'unreadable-state', state: null }]
  ]
  for (const [name, seen, want] of table) {
    it(name, () => { expect(evidence(fact, seen)).toStrictEqual(want) })
  }

  it('takes a fact type with no STATE as always open, whatever the mirror holds', () => {
    const decided: FactRef = { id: FACT, type: 'household.decided', seq: 1 }
    expect(setsState('household.decided')).toBe(false)
    expect(setsState('cup.empty')).toBe(true)
    expect(setsState('order.created')).toBe(false)
    expect(evidence(decided, undefined)).toStrictEqual({ verdict: 'open', state: null })
    expect(evidence(decided, held(state(9)))).toStrictEqual({ verdict: 'open', state: null })
  })
})
