import { factName, stateOf, type FactType, type ThingState } from '#contract'
import { claimMessage, holderOf, makeFact, type Message, type MirrorView } from '#client'
import type { Press } from './presses.ts'

/**
 * What a button can do about a thing, by the value of the thing's state: the state a person acts
 * on, and the fact that says it is done (with its data). A thing in any other state has nothing
 * open for a button. A new kind a button can finish is one line here.
 */
export const ACTIONABLE: Readonly<Record<string, { done: FactType, data: Record<string, unknown> }>> = Object.freeze({
  // A long press on an empty cup: "I refilled it" (level 1, as a person says it, not a reading).
  empty: { done: 'cup.filled', data: { level: 1 } },
  opened: { done: 'door.closed', data: {} }
})

/** What a press came to: a claim to publish, a resolution to publish, or nothing (and why). */
export type Outcome =
  | { kind: 'claim', subject: string, factId: string, message: Message }
  | { kind: 'resolve', subject: string, factId: string, messages: Message[] }
  | { kind: 'nothing', why: string }

export interface PressContext {
  /** The member the button speaks for. */
  member: string
  /** The subjects of its things (`thingSubject`), in the order it looks at them. */
  subjects: readonly string[]
  /** The retained states and claims of its things, as the button's mirror holds them. */
  seen: MirrorView
  now: Date
  /** The `source` of the facts it publishes. */
  source: string
}

/** The open fact of a subject, or why there is none. Positive evidence only: no state seen is no fact. */
function openFact (subject: string, ctx: PressContext): { state: ThingState, holder: string | null } | string {
  const seen = ctx.seen.state(subject)
  if (!seen) return `no state of ${subject} seen yet`
  if (seen.status !== 'value') return `the state of ${subject} is ${seen.status}`
  const state = seen.value
  if (!ACTIONABLE[state.value]) return `${subject} is "${state.value}": nothing open`
  const holder = holderOf(state.factId, ctx.seen.claim(subject))
  // No claim seen is not "free", but a person's press may still try: the broker vouches for
  // claims and refuses one for a fact someone holds. An unreadable claim is left alone.
  if (holder.status === 'unknown' && holder.reason === 'unreadable-claim') return `the claim on ${subject} is unreadable`
  return { state, holder: holder.status === 'held' ? holder.by : null }
}

/**
 * What a press means now, pure: a short press claims the first open fact of its things that
 * nobody holds, for its member; a long press says the first open fact it may finish (its own, or
 * nobody's) is done, publishing the fact its kind uses for that and the state it sets.
 */
export function outcomeOf (press: Press, ctx: PressContext): Outcome {
  const why: string[] = []
  for (const subject of ctx.subjects) {
    const open = openFact(subject, ctx)
    if (typeof open === 'string') {
      why.push(open)
      continue
    }
    const { state, holder } = open
    if (holder !== null && holder !== ctx.member) {
      why.push(`${subject} is already claimed by ${holder}`)
      continue
    }
    if (press === 'press') {
      if (holder === ctx.member) {
        why.push(`${subject} is already claimed by ${ctx.member}`)
        continue
      }
      return { kind: 'claim', subject, factId: state.factId, message: claimMessage({ id: state.factId, subject }, ctx.member, ctx.now) }
    }
    const { done, data } = ACTIONABLE[state.value]!
    const fact = makeFact(done, { subject, source: ctx.source, seq: state.seq + 1, time: ctx.now, causationid: state.factId, correlationid: state.factId, data: data as never })
    const next: ThingState = { value: stateOf(done)!, seq: fact.seq, since: fact.time, factId: fact.id }
    return {
      kind: 'resolve',
      subject,
      factId: state.factId,
      messages: [
        { topic: `${subject}/fact/${factName(done)}`, payload: JSON.stringify(fact), qos: 1, retain: false },
        { topic: `${subject}/state`, payload: JSON.stringify(next), qos: 1, retain: true }
      ]
    }
  }
  return { kind: 'nothing', why: why.join('; ') || 'the button has no things' }
}
