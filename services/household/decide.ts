import { claimTopic, isFactType, makeFact, memberFactTopic, memberSubject, parseTopic, stateOf, type Claim, type Fact, type FactType, type Presence, type ThingState } from '#contract'
import { HouseholdDecided } from '#contract'
import { isResolved } from '../lib/retained.ts'
import type { HouseholdConfig, Member } from './config.ts'
import { NO_POLICY, isNotified, mayClaim, stableId, stepDue } from './policy.ts'

/** An open fact this member watches until it is resolved or claimed. */
export interface OpenFact {
  factId: string
  type: FactType
  subject: string
  seq: number
  /** The fact's time (ms): escalation deadlines are counted from it, so they survive restarts. */
  time: number
  correlationid: string
  /** The first claim seen for this fact, in broker order: the winner. */
  claimedBy: string | null
  /** This member published a claim for it. */
  iClaimed: boolean
  /** Escalation steps already past (fired, or not for this member). */
  stepsDone: number
}

/** Everything a responder remembers. Pure data; `decide` returns a new one. */
export interface ResponderState {
  me: Member
  household: Pick<HouseholdConfig, 'policies' | 'quietHours' | 'bypassQuietHours'>
  /** Ids of facts already decided on, newest last (QoS 1 may deliver a fact twice). */
  handled: readonly string[]
  open: Readonly<Record<string, OpenFact>>
  /** The first claimant seen for recent fact ids, in broker order (a claim may arrive before its fact). */
  claims: Readonly<Record<string, string>>
  /** The fact id of the last claim seen on each subject, in broker order ('' once cleared). */
  lastClaim: Readonly<Record<string, string>>
  /** seq of the next fact this member's responder publishes. */
  seq: number
}

/** What happened, with the retained values the adapter read at decision time. */
export type Input =
  | { kind: 'fact', fact: Fact, state: ThingState | null, claim: Claim | null, presence: Presence | null }
  | { kind: 'claim', subject: string, claim: Claim | null }
  | { kind: 'state', subject: string, state: ThingState }
  | { kind: 'due', factId: string, state: ThingState | null, claim: Claim | null }
  | { kind: 'recover', things: { subject: string, state: ThingState | null, claim: Claim | null }[] }

/** One MQTT publish. */
export interface Out {
  topic: string
  payload: string
  qos: 1
  retain: boolean
}

export interface Decision {
  state: ResponderState
  publish: Out[]
  /** Set when the input was ignored, for the log. */
  ignored?: 'duplicate' | 'not-responding' | 'unknown-fact'
}

const HANDLED_MAX = 1000

/** A responder's starting state. `seq` should grow across restarts (e.g. start from the clock). */
export function initialState (me: Member, household: ResponderState['household'], seq: number): ResponderState {
  return { me, household, handled: [], open: {}, claims: {}, lastClaim: {}, seq }
}

const policyOf = (s: ResponderState, type: string) => s.household.policies[type] ?? NO_POLICY

/**
 * The pure core of a household member: given what it remembers, what happened and the time,
 * it returns what it now remembers and what to publish. No I/O, no clock.
 */
export function decide (s: ResponderState, input: Input, now: number): Decision {
  switch (input.kind) {
    case 'fact': return onFact(s, input, now)
    case 'claim': return onClaim(s, input.subject, input.claim, now)
    case 'state': return onState(s, input.subject, input.state, now)
    case 'due': return onDue(s, input, now)
    case 'recover': return onRecover(s, input.things)
  }
}

type Verdict = Pick<HouseholdDecided.HouseholdDecided, 'decision' | 'reason' | 'detail'>

/** The `household.decided` fact, so the story can be traced from the ledger. */
function decided (s: ResponderState, f: Pick<OpenFact, 'factId' | 'type' | 'subject' | 'seq' | 'correlationid'>, v: Verdict, now: number): [ResponderState, Out] {
  const fact = makeFact('household.decided', {
    subject: memberSubject(s.me.name),
    source: `services/household/${s.me.name}`,
    seq: s.seq,
    time: new Date(now),
    causationid: f.factId,
    correlationid: f.correlationid,
    data: { member: s.me.name, ...v, fact: { id: f.factId, type: f.type, subject: f.subject, seq: f.seq } }
  })
  return [{ ...s, seq: s.seq + 1 }, { topic: memberFactTopic(s.me.name, 'decided'), payload: JSON.stringify(fact), qos: 1, retain: false }]
}

function claimOut (f: OpenFact, by: string, now: number): Out {
  const t = parseTopic(`${f.subject}/claim`)
  const topic = t?.kind === 'claim' ? claimTopic(t.area, t.thing) : `${f.subject}/claim`
  const claim: Claim = { factId: f.factId, by, at: new Date(now).toISOString() }
  return { topic, payload: JSON.stringify(claim), qos: 1, retain: true }
}

const withOpen = (s: ResponderState, f: OpenFact): ResponderState => ({ ...s, open: { ...s.open, [f.factId]: f } })
const without = (s: ResponderState, factId: string): ResponderState => {
  const { [factId]: _gone, ...open } = s.open
  return { ...s, open }
}

function onFact (s0: ResponderState, input: Extract<Input, { kind: 'fact' }>, now: number): Decision {
  const { fact, state, claim } = input
  if (s0.handled.includes(fact.id)) return { state: s0, publish: [], ignored: 'duplicate' }
  if (!s0.me.respondsTo.includes(fact.type)) return { state: s0, publish: [], ignored: 'not-responding' }
  let s: ResponderState = { ...s0, handled: [...s0.handled, fact.id].slice(-HANDLED_MAX) }
  const known = s.open[fact.id]
  const f: OpenFact = known ?? {
    factId: fact.id,
    type: fact.type,
    subject: fact.subject,
    seq: fact.seq,
    time: Date.parse(fact.time),
    correlationid: fact.correlationid ?? fact.id,
    claimedBy: null,
    iClaimed: false,
    stepsDone: 0
  }
  const say = (v: Verdict, next: ResponderState, extra: Out[] = []): Decision => {
    const [after, out] = decided(next, f, v, now)
    return { state: after, publish: [...extra, out] }
  }
  // Resolution check at decision time: a queued fact may have been overtaken while we were away.
  if (isResolved(fact, state)) {
    return say({ decision: 'skip', reason: 'resolved', detail: `already resolved: ${fact.subject} is "${state!.value}" since seq ${state!.seq} (this fact is seq ${fact.seq})` }, without(s, fact.id))
  }
  // The first claim seen live wins (in broker order); otherwise the retained claim read just now.
  const holder = s.claims[fact.id] ?? (claim?.factId === fact.id ? claim.by : undefined)
  if (holder !== undefined) {
    if (holder === s.me.name) {
      return say({ decision: 'claim', reason: 'mine', detail: 'already claimed by me; not claiming again' }, withOpen(s, { ...f, claimedBy: holder, iClaimed: true }))
    }
    return say({ decision: 'stand-down', reason: 'claimed', detail: `${holder} claimed it first` }, withOpen(s, { ...f, claimedBy: f.claimedBy ?? holder }))
  }
  s = withOpen(s, f)
  const presence = input.presence ?? s.me.presence
  if (presence !== 'home') {
    return say({ decision: 'skip', reason: presence, detail: `I am ${presence}; leaving it to someone at home` }, s)
  }
  if (!mayClaim(policyOf(s, fact.type), s.me.role)) {
    return say({ decision: 'skip', reason: 'not-allowed', detail: `the ${fact.type} policy lets ${policyOf(s, fact.type).mayClaim.join(', ')} claim, not a ${s.me.role}` }, s)
  }
  s = withOpen(s, { ...f, iClaimed: true })
  return say({ decision: 'claim', reason: 'open', detail: `still open (seq ${fact.seq}), nobody has claimed it and I am home: I'll handle it` }, s, [claimOut(f, s.me.name, now)])
}

const CLAIMS_MAX = 500

function onClaim (s1: ResponderState, subject: string, claim: Claim | null, now: number): Decision {
  const s0: ResponderState = { ...s1, lastClaim: { ...s1.lastClaim, [subject]: claim?.factId ?? '' } }
  // An empty claim only says the topic was cleared; the state says what was resolved.
  if (!claim) return { state: s0, publish: [] }
  // The first claim seen for a fact, in broker order, wins; later ones change nothing.
  if (s0.claims[claim.factId] !== undefined) return { state: s0, publish: [] }
  const kept = Object.entries(s0.claims).slice(-(CLAIMS_MAX - 1))
  const s: ResponderState = { ...s0, claims: Object.fromEntries([...kept, [claim.factId, claim.by]]) }
  const f = s.open[claim.factId]
  if (!f) return { state: s, publish: [], ignored: 'unknown-fact' }
  if (f.claimedBy !== null) return { state: s, publish: [] }
  const next = withOpen(s, { ...f, claimedBy: claim.by })
  if (claim.by !== s.me.name && f.iClaimed) {
    const [after, out] = decided(next, f, { decision: 'stand-down', reason: 'lost-race', detail: `${claim.by}'s claim reached the broker first` }, now)
    return { state: after, publish: [out] }
  }
  return { state: next, publish: [] }
}

function onState (s: ResponderState, subject: string, state: ThingState, now: number): Decision {
  let next = s
  const publish: Out[] = []
  for (const f of Object.values(s.open)) {
    if (f.subject !== subject || !isResolved(f, state)) continue
    next = without(next, f.factId)
    if (f.claimedBy === s.me.name) {
      // The claim is cleared when the fact resolves, unless a claim for a newer fact has
      // replaced ours on the topic (claims and states arrive in broker order on one connection).
      const last = s.lastClaim[subject]
      if (last === undefined || last === f.factId) publish.push({ topic: claimOut(f, s.me.name, now).topic, payload: '', qos: 1, retain: true })
      const [after, out] = decided(next, f, { decision: 'done', reason: 'resolved', detail: `${subject} is "${state.value}" now (seq ${state.seq}); clearing my claim` }, now)
      next = after
      publish.push(out)
    }
  }
  return { state: next, publish }
}

function onDue (s: ResponderState, input: Extract<Input, { kind: 'due' }>, now: number): Decision {
  const f = s.open[input.factId]
  if (!f) return { state: s, publish: [], ignored: 'unknown-fact' }
  // Check again at decision time: the retained state and claim, not what we remember.
  if (isResolved(f, input.state)) return { state: without(s, f.factId), publish: [] }
  if (input.claim?.factId === f.factId) return { state: withOpen(s, { ...f, claimedBy: f.claimedBy ?? input.claim.by }), publish: [] }
  if (f.claimedBy !== null) return { state: s, publish: [] }
  const steps = policyOf(s, f.type).escalation
  let next = s
  let done = f.stepsDone
  const publish: Out[] = []
  while (done < steps.length) {
    const step = steps[done]!
    const due = stepDue(f.time, step, s.household)
    if (due > now) break
    done++
    if (!isNotified(step, s.me)) continue
    const fact = makeFact('household.escalated', {
      id: stableId(due, `${f.factId}/${s.me.name}/${done}`),
      subject: memberSubject(s.me.name),
      source: `services/household/${s.me.name}`,
      seq: next.seq,
      time: new Date(now),
      causationid: f.factId,
      correlationid: f.correlationid,
      data: {
        member: s.me.name,
        factId: f.factId,
        factType: f.type,
        subject: f.subject,
        step: done,
        priority: step.priority,
        due: new Date(due).toISOString(),
        detail: `nobody claimed ${f.type} on ${f.subject} within ${step.afterSeconds} s`
      }
    })
    next = { ...next, seq: next.seq + 1 }
    publish.push({ topic: memberFactTopic(s.me.name, 'escalated'), payload: JSON.stringify(fact), qos: 1, retain: false })
  }
  return { state: withOpen(next, { ...f, stepsDone: done }), publish }
}

/**
 * Rebuilds the open facts from the retained states after a (re)start: a state that a fact type
 * this member responds to sets is an open fact, with the id and time of the fact that set it.
 * Escalation deadlines follow from those times, so they are kept across a restart.
 */
function onRecover (s: ResponderState, things: Extract<Input, { kind: 'recover' }>['things']): Decision {
  let next = s
  for (const { subject, state, claim } of things) {
    if (!state || next.open[state.factId]) continue
    const type = s.me.respondsTo.filter(isFactType).find((t) => stateOf(t) === state.value)
    if (!type) continue
    const claimedBy = claim?.factId === state.factId ? claim.by : null
    next = withOpen(next, {
      factId: state.factId,
      type,
      subject,
      seq: state.seq,
      time: Date.parse(state.since),
      correlationid: state.factId,
      claimedBy,
      iClaimed: claimedBy === s.me.name,
      stepsDone: 0
    })
  }
  return { state: next, publish: [] }
}

/** When this member next has an escalation step due (epoch ms), or `null` when none is pending. */
export function nextDue (s: ResponderState): { factId: string, at: number } | null {
  let best: { factId: string, at: number } | null = null
  for (const f of Object.values(s.open)) {
    if (f.claimedBy !== null) continue
    const steps = policyOf(s, f.type).escalation
    for (let i = f.stepsDone; i < steps.length; i++) {
      if (!isNotified(steps[i]!, s.me)) continue
      const at = stepDue(f.time, steps[i]!, s.household)
      if (!best || at < best.at) best = { factId: f.factId, at }
      break
    }
  }
  return best
}

/** The open facts whose next step for this member is due at `now`. */
export function dueFacts (s: ResponderState, now: number): string[] {
  return Object.values(s.open).filter((f) => {
    if (f.claimedBy !== null) return false
    const steps = policyOf(s, f.type).escalation
    for (let i = f.stepsDone; i < steps.length; i++) {
      if (isNotified(steps[i]!, s.me)) return stepDue(f.time, steps[i]!, s.household) <= now
    }
    return false
  }).map((f) => f.factId)
}
