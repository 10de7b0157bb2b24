import { memberFactTopic, memberSubject, type Fact, type FactType, type HouseholdDecided } from '#contract'
import { makeFact } from '#client'
import type { Message, MirrorChange, MirrorView } from '#client'
import type { HouseholdConfig, Member } from './config.ts'

/** What a decision names: the fact, and where its story goes (`correlationid`). */
export interface FactRef {
  factId: string
  type: FactType
  subject: string
  seq: number
  /** The fact's time (ms): escalation deadlines are counted from it, so they survive restarts. */
  time: number
  correlationid: string
}

/** A fact known to be open (its state names it), watched until it is resolved or claimed. */
export interface OpenFact extends FactRef {
  /** The first claim seen for this fact, in broker order: the winner. */
  claimedBy: string | null
  /** This member published a claim for it, and the broker has not refused it. */
  iClaimed: boolean
  /** This member's agent asked them (an offer is out) and has not withdrawn it. */
  offered: boolean
  /** Escalation steps already past (fired, or not for this member). */
  stepsDone: number
  /**
   * This member's own decision waits for this evidence (its presence, a readable claim); `null`
   * once decided, and for a fact known only from its state (after a restart: not mine to decide).
   */
  pending: HouseholdDecided.DeferReason | null
}

/** A fact deferred for want of its state (none yet, an older or an unreadable one). */
export interface WaitingFact extends FactRef {
  reason: HouseholdDecided.DeferReason
}

/** A claim of mine to clear at `at`, unless the broker has cleared it by then. */
export interface Clearing {
  factId: string
  subject: string
  at: number
}

/** Everything a responder remembers. Pure data; `decide` returns a new one. */
export interface ResponderState {
  me: Member
  household: Pick<HouseholdConfig, 'policies' | 'quietHours' | 'bypassQuietHours' | 'evidenceTimeoutMs' | 'clearClaimAfterMs'>
  /** Ids of facts already decided on (or deferred), newest last (QoS 1 may deliver a fact twice). */
  handled: readonly string[]
  open: Readonly<Record<string, OpenFact>>
  waiting: Readonly<Record<string, WaitingFact>>
  clearing: Readonly<Record<string, Clearing>>
  /** The first claimant seen for recent fact ids, in broker order (a claim may arrive before its fact). */
  claims: Readonly<Record<string, string>>
  /** seq of the next fact this member's responder publishes on `household/<member>`. */
  seq: number
  /** seq of the next fact it publishes on `notify/<member>` (offers and their withdrawals). */
  notifySeq: number
}

/**
 * What happened. `seen` is the mirror at decision time: retained states, claims and presence,
 * read from memory (a `Mirror`, or a fixed view in tests).
 */
export type Input =
  | { kind: 'fact', fact: Fact, seen: MirrorView }
  | { kind: 'changed', change: MirrorChange, seen: MirrorView }
  | { kind: 'refused', factId: string, why: string }
  | { kind: 'tick', seen: MirrorView }

/** One MQTT publish. */
export type Out = Message

export interface Decision {
  state: ResponderState
  publish: Out[]
  /** Set when the input was ignored, for the log. */
  ignored?: 'duplicate' | 'not-responding' | 'unknown-fact'
}

/** A `household.decided` payload without who and what: one decision and its reason. */
export type Verdict = HouseholdDecided.HouseholdDecided extends infer U ? U extends unknown ? Omit<U, 'member' | 'fact'> : never : never

const HANDLED_MAX = 1000
const WAITING_MAX = 1000
const CLAIMS_MAX = 500

/** A responder's starting state. `seq` should grow across restarts (e.g. start from the clock). */
export function initialState (me: Member, household: ResponderState['household'], seq: number): ResponderState {
  return { me, household, handled: [], open: {}, waiting: {}, clearing: {}, claims: {}, seq, notifySeq: seq }
}

/** The `household.decided` fact, so the story can be traced from the ledger. */
export function decided (s: ResponderState, f: FactRef, v: Verdict, now: number): [ResponderState, Out] {
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

export const refOf = (fact: Fact): FactRef => ({
  factId: fact.id,
  type: fact.type,
  subject: fact.subject,
  seq: fact.seq,
  time: Date.parse(fact.time),
  correlationid: fact.correlationid ?? fact.id
})

export const withOpen = (s: ResponderState, f: OpenFact): ResponderState => ({ ...s, open: { ...s.open, [f.factId]: f } })

export function without (s: ResponderState, factId: string): ResponderState {
  if (!(factId in s.open) && !(factId in s.waiting)) return s
  const { [factId]: _open, ...open } = s.open
  const { [factId]: _waiting, ...waiting } = s.waiting
  return { ...s, open, waiting }
}

export function withWaiting (s: ResponderState, f: WaitingFact): ResponderState {
  const { [f.factId]: _open, ...open } = s.open
  const kept = Object.entries(s.waiting).filter(([id]) => id !== f.factId).slice(-(WAITING_MAX - 1))
  return { ...s, open, waiting: Object.fromEntries([...kept, [f.factId, f]]) }
}

export const withHandled = (s: ResponderState, factId: string): ResponderState => ({ ...s, handled: [...s.handled, factId].slice(-HANDLED_MAX) })

/** Remembers the first claimant seen for a fact; later claims for it change nothing. */
export function withClaimant (s: ResponderState, factId: string, by: string): ResponderState {
  if (s.claims[factId] !== undefined) return s
  const kept = Object.entries(s.claims).slice(-(CLAIMS_MAX - 1))
  return { ...s, claims: Object.fromEntries([...kept, [factId, by]]) }
}
