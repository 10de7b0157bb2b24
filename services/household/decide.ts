import { isFactType, presenceTopic, stateOf, type Claim, type Fact, type HouseholdDecided } from '#contract'
import { claimMessage, evidence, holderOf, type MirrorChange, type MirrorView } from '#client'
import { claimsForMe, mayClaim, policyOf } from './policy.ts'
import { offered, withdrawn } from './offer.ts'
import { onTick } from './escalate.ts'
import {
  decided, refOf, withClaimant, withHandled, withOpen, without, withWaiting,
  type Decision, type FactRef, type Input, type OpenFact, type Out, type ResponderState, type Verdict
} from './state.ts'

export { initialState, type Decision, type Input, type OpenFact, type Out, type ResponderState, type WaitingFact } from './state.ts'
export { nextDue } from './escalate.ts'

/**
 * The pure core of a household member: given what it remembers, what happened (with the
 * mirror's view at that moment) and the time, it returns what it now remembers and what to
 * publish. No I/O, no clock.
 */
export function decide (s: ResponderState, input: Input, now: number): Decision {
  switch (input.kind) {
    case 'fact': return onFact(s, input.fact, input.seen, now)
    case 'changed': return onChanged(s, input.change, input.seen, now)
    case 'refused': return onRefused(s, input.factId, input.why, now)
    case 'tick': return onTick(s, input.seen, now)
  }
}

type Judgement =
  | { kind: 'decided', verdict: Verdict, claimedBy?: string, claim?: true, offer?: true, resolved?: true }
  | { kind: 'missing', reason: HouseholdDecided.DeferReason, detail: string, stateKnownOpen: boolean }

/**
 * What this member decides about a fact from the mirror, on positive evidence only: the state
 * says open or resolved; and, for a claim of its own, its presence is known. Anything missing
 * is reported, never assumed.
 */
function judge (s: ResponderState, f: FactRef, seen: MirrorView): Judgement {
  const ev = evidence({ id: f.factId, type: f.type, seq: f.seq }, seen.state(f.subject))
  if (ev.verdict === 'resolved') {
    return { kind: 'decided', resolved: true, verdict: { decision: 'skip', reason: 'resolved', detail: `already resolved: ${f.subject} is "${ev.state.value}" since seq ${ev.state.seq} (this fact is seq ${f.seq})` } }
  }
  if (ev.verdict === 'unknown') {
    const detail = ev.reason === 'old-state'
      ? `the state of ${f.subject} is still seq ${ev.state!.seq}, older than this fact (seq ${f.seq})`
      : ev.reason === 'unreadable-state' ? `the retained state of ${f.subject} is unreadable` : `no state of ${f.subject} yet`
    return { kind: 'missing', reason: ev.reason, detail, stateKnownOpen: false }
  }
  const claim = seen.claim(f.subject)
  const holder = holderOf(f.factId, claim)
  const by = s.claims[f.factId] ?? (holder.status === 'held' ? holder.by : undefined)
  if (by === s.me.name) return { kind: 'decided', claimedBy: by, verdict: { decision: 'claim', reason: 'mine', detail: 'already claimed by me; not claiming again' } }
  if (by !== undefined) return { kind: 'decided', claimedBy: by, verdict: { decision: 'stand-down', reason: 'claimed', detail: `${by} claimed it first` } }
  if (holder.status === 'unknown' && holder.reason === 'unreadable-claim') {
    return { kind: 'missing', reason: 'unreadable-claim', detail: `the retained claim of ${f.subject} is unreadable, so I cannot tell whether someone holds it`, stateKnownOpen: true }
  }
  const presence = seen.presence(s.me.name)
  if (presence?.status === 'value' && presence.value !== 'home') {
    return { kind: 'decided', verdict: { decision: 'skip', reason: presence.value, detail: `I am ${presence.value}; leaving it to someone at home` } }
  }
  const policy = policyOf(s.household, f.type)
  if (!mayClaim(policy, s.me.role)) {
    return { kind: 'decided', verdict: { decision: 'skip', reason: 'not-allowed', detail: `the ${f.type} policy lets ${policy.mayClaim.join(', ')} claim, not a ${s.me.role}` } }
  }
  if (presence?.status !== 'value') {
    const unreadable = presence?.status === 'unreadable'
    return { kind: 'missing', reason: unreadable ? 'unreadable-presence' : 'no-presence', detail: `${unreadable ? 'my retained presence is unreadable' : 'no presence retained for me'} (${presenceTopic(s.me.name)})`, stateKnownOpen: true }
  }
  // A claim is a person's promise: the agent takes the fact only for a member who chose
  // `auto`; for everyone else it asks, and the person claims (phone, button) or not.
  if (claimsForMe(policy, s.me.name)) {
    return { kind: 'decided', claim: true, verdict: { decision: 'claim', reason: 'open', detail: `still open (seq ${f.seq}), nobody has claimed it and I am home: I'll handle it` } }
  }
  return { kind: 'decided', offer: true, verdict: { decision: 'offer', reason: 'open', detail: `still open (seq ${f.seq}), nobody has claimed it and ${s.me.name} is home: asking ${s.me.name}` } }
}

/**
 * The evidence a decision on this fact still lacks, or `null` when it can be decided now. The
 * adapter waits (within `evidenceTimeoutMs`) while this is not `null`.
 */
export function missingEvidence (s: ResponderState, fact: Fact, seen: MirrorView): HouseholdDecided.DeferReason | null {
  const j = judge(s, s.open[fact.id] ?? refOf(fact), seen)
  return j.kind === 'missing' ? j.reason : null
}

/** Only the fact's own fields, whatever else the record carries (a waiting fact's reason). */
const refFields = (f: FactRef): FactRef => ({ factId: f.factId, type: f.type, subject: f.subject, seq: f.seq, time: f.time, correlationid: f.correlationid })
const blankOpen = (f: FactRef): OpenFact => ({ ...refFields(f), claimedBy: null, iClaimed: false, offered: false, stepsDone: 0, pending: null })

/**
 * Applies a judgement. `first` is the fact's first decision: only then is a deferral published;
 * deciding a deferred fact again while evidence is still missing changes nothing visible.
 */
function settle (s: ResponderState, f: FactRef, j: Judgement, first: boolean, now: number): Decision {
  const known = s.open[f.factId] ?? blankOpen(f)
  if (j.kind === 'missing') {
    const next = j.stateKnownOpen ? withOpen(without(s, f.factId), { ...known, pending: j.reason }) : withWaiting(s, { ...refFields(f), reason: j.reason })
    if (!first) return { state: next, publish: [] }
    const [after, out] = decided(next, f, { decision: 'deferred', reason: j.reason, detail: `${j.detail} within ${s.household.evidenceTimeoutMs} ms: not claiming; I will decide when it arrives` }, now)
    return { state: after, publish: [out] }
  }
  if (j.resolved) {
    const [after, out] = decided(without(s, f.factId), f, j.verdict, now)
    return { state: after, publish: [out] }
  }
  const claimedBy = known.claimedBy ?? j.claimedBy ?? null
  const open: OpenFact = { ...known, pending: null, claimedBy, iClaimed: known.iClaimed || j.claim === true || claimedBy === s.me.name, offered: known.offered || j.offer === true }
  const extra: Out[] = j.claim ? [claimMessage({ id: f.factId, subject: f.subject }, s.me.name, new Date(now))] : []
  let next = withOpen(without(s, f.factId), open)
  if (j.offer && !known.offered) {
    const [asked, offer] = offered(next, f, j.verdict.detail, now)
    next = asked
    extra.push(offer)
  }
  const [after, out] = decided(next, f, j.verdict, now)
  return { state: after, publish: [...extra, out] }
}

function onFact (s0: ResponderState, fact: Fact, seen: MirrorView, now: number): Decision {
  if (s0.handled.includes(fact.id)) return { state: s0, publish: [], ignored: 'duplicate' }
  if (!s0.me.respondsTo.includes(fact.type)) return { state: s0, publish: [], ignored: 'not-responding' }
  const s = withHandled(s0, fact.id)
  // A fact known from its state (after a restart) keeps what was seen of it: claims, steps.
  const f = s.open[fact.id] ?? refOf(fact)
  return settle(s, f, judge(s, f, seen), true, now)
}

/** Decides again, from the mirror as it is now, the facts deferred about a subject (or all, for presence). */
function redecide (s0: ResponderState, seen: MirrorView, now: number, which: (f: FactRef) => boolean): Decision {
  let s = s0
  const publish: Out[] = []
  const deferred: FactRef[] = [...Object.values(s.waiting), ...Object.values(s.open).filter((f) => f.pending !== null)]
  for (const f of deferred.filter(which)) {
    const d = settle(s, s.open[f.factId] ?? f, judge(s, f, seen), false, now)
    s = d.state
    publish.push(...d.publish)
  }
  return { state: s, publish }
}

function onChanged (s: ResponderState, change: MirrorChange, seen: MirrorView, now: number): Decision {
  switch (change.kind) {
    case 'state': return onState(s, change.subject, seen, now)
    case 'claim': return onClaim(s, change.subject, change.seen.status === 'value' ? change.seen.value : null, seen, now)
    case 'presence':
      if (change.member !== s.me.name) return { state: s, publish: [] }
      return redecide(s, seen, now, () => true)
  }
}

function onState (s0: ResponderState, subject: string, seen: MirrorView, now: number): Decision {
  let s = s0
  const publish: Out[] = []
  for (const f of Object.values(s0.open)) {
    if (f.subject !== subject || evidence({ id: f.factId, type: f.type, seq: f.seq }, seen.state(subject)).verdict !== 'resolved') continue
    s = without(s, f.factId)
    const state = seen.state(subject)
    const is = state?.status === 'value' ? `"${state.value.value}" now (seq ${state.value.seq})` : 'past it'
    if (f.offered) {
      // Resolved: the offer stands no longer, the claimant's included.
      const [after, out] = withdrawn(s, f, 'resolved', `${subject} is ${is}`, now)
      s = after
      publish.push(out)
    }
    if (f.claimedBy === s.me.name) {
      // The hub's broker clears the claim itself; another broker may not, so check later.
      s = { ...s, clearing: { ...s.clearing, [f.factId]: { factId: f.factId, subject, at: now + s.household.clearClaimAfterMs } } }
      const [after, out] = decided(s, f, { decision: 'done', reason: 'resolved', detail: `${subject} is ${is}; my claim is cleared` }, now)
      s = after
      publish.push(out)
    } else if (f.pending !== null) {
      const [after, out] = decided(s, f, { decision: 'skip', reason: 'resolved', detail: `resolved while I waited: ${subject} is ${is}` }, now)
      s = after
      publish.push(out)
    }
  }
  const again = redecide(s, seen, now, (f) => f.subject === subject)
  return { state: recover(again.state, subject, seen), publish: [...publish, ...again.publish] }
}

/**
 * Rebuilds an open fact from the state that names it, when this member has not seen the fact
 * (after a restart, or before it arrives): escalation deadlines follow from the state's `since`,
 * so they survive a restart. This member does not decide on it unless the fact itself arrives.
 */
function recover (s: ResponderState, subject: string, seen: MirrorView): ResponderState {
  const state = seen.state(subject)
  if (state?.status !== 'value') return s
  const { factId, value, seq, since } = state.value
  if (s.open[factId] || s.waiting[factId] || s.handled.includes(factId)) return s
  const type = s.me.respondsTo.filter(isFactType).find((t) => stateOf(t) === value)
  if (!type) return s
  const holder = holderOf(factId, seen.claim(subject))
  const claimedBy = s.claims[factId] ?? (holder.status === 'held' ? holder.by : null)
  return withOpen(s, { factId, type, subject, seq, time: Date.parse(since), correlationid: factId, claimedBy, iClaimed: claimedBy === s.me.name, offered: false, stepsDone: 0, pending: null })
}

function onClaim (s0: ResponderState, subject: string, claim: Claim | null, seen: MirrorView, now: number): Decision {
  let s = s0
  const publish: Out[] = []
  if (!claim) {
    // Cleared (by the broker, or the holder): nothing of mine left to clear on this subject.
    const clearing = Object.fromEntries(Object.entries(s.clearing).filter(([, c]) => c.subject !== subject))
    s = { ...s, clearing }
  } else if (s.claims[claim.factId] === undefined) {
    // The first claim seen for a fact, in broker order, wins; later ones change nothing.
    s = withClaimant(s, claim.factId, claim.by)
    const f = s.open[claim.factId]
    if (f && f.claimedBy === null) {
      const lost = claim.by !== s.me.name && f.iClaimed
      // Someone else took it: my member's offer is withdrawn (the claimant's stays until it resolves).
      const withdraw = claim.by !== s.me.name && f.offered
      s = withOpen(s, { ...f, claimedBy: claim.by, iClaimed: lost ? false : f.iClaimed, offered: withdraw ? false : f.offered })
      if (lost) {
        const [after, out] = decided(s, f, { decision: 'stand-down', reason: 'lost-race', detail: `${claim.by}'s claim reached the broker first` }, now)
        s = after
        publish.push(out)
      }
      if (withdraw) {
        const [after, out] = withdrawn(s, f, 'claimed', `claimed by ${claim.by}`, now)
        s = after
        publish.push(out)
      }
    }
  }
  const again = redecide(s, seen, now, (f) => f.subject === subject)
  return { state: again.state, publish: [...publish, ...again.publish] }
}

/** The broker refused this member's claim: someone else holds it, or the fact moved on. A lost race; never retried. */
function onRefused (s: ResponderState, factId: string, why: string, now: number): Decision {
  const f = s.open[factId]
  if (!f || !f.iClaimed || f.claimedBy === s.me.name) return { state: s, publish: [], ignored: 'unknown-fact' }
  const [after, out] = decided(withOpen(s, { ...f, iClaimed: false }), f, { decision: 'stand-down', reason: 'lost-race', detail: `the broker refused my claim: ${why}` }, now)
  return { state: after, publish: [out] }
}
