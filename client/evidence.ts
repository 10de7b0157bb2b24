import { isFactType, stateOf, type Fact, type ThingState } from '#contract'
import type { Seen } from './seen.ts'

/** What the evidence rule needs of a fact. */
export type FactRef = Pick<Fact, 'id' | 'type' | 'seq'>

/** Why there is no verdict yet: the state a decision needs has not (or not readably) arrived. */
export type EvidenceGap = 'no-state' | 'old-state' | 'unreadable-state'

/**
 * What the retained state says about a fact (docs/architecture.md, "Resolved, offered, claimed, escalated").
 * Only `open` and `resolved` are positive evidence; `unknown` means wait, and never "open".
 */
export type Evidence =
  | { verdict: 'open', state: ThingState | null }
  | { verdict: 'resolved', state: ThingState }
  | { verdict: 'unknown', reason: EvidenceGap, state: ThingState | null }

/** True when facts of this type set a thing's state (their contract entry has a `STATE`). */
export function setsState (type: string): boolean {
  return isFactType(type) && stateOf(type) !== undefined
}

/**
 * The evidence rule, pure. For a fact type that sets a state:
 * - open: the state names the fact (`state.factId === fact.id`);
 * - resolved: the state's seq is higher, or the state names another fact with the same seq;
 * - unknown: no state (nothing seen, or cleared), an unreadable one, or an older one (lower seq).
 *
 * A fact type with no `STATE` (household, order, customer facts) has no state to move past: it
 * is always open.
 */
export function evidence (fact: FactRef, seen: Seen<ThingState> | undefined): Evidence {
  if (!setsState(fact.type)) return { verdict: 'open', state: null }
  if (!seen || seen.status === 'cleared') return { verdict: 'unknown', reason: 'no-state', state: null }
  if (seen.status === 'unreadable') return { verdict: 'unknown', reason: 'unreadable-state', state: null }
  const state = seen.value
  if (state.factId === fact.id) return { verdict: 'open', state }
  if (state.seq >= fact.seq) return { verdict: 'resolved', state }
  return { verdict: 'unknown', reason: 'old-state', state }
}
