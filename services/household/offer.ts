import { notifyFactTopic, notifySubject } from '#contract'
import { makeFact } from '#client'
import { stableId } from './policy.ts'
import type { FactRef, Out, ResponderState } from './state.ts'

/**
 * Offers: an agent asks its person to handle an open fact, and withdraws the ask
 * when someone claims the fact or it resolves. Both are facts on `notify/<member>/fact/...`;
 * their ids derive from (fact, member), so an offer made again after a crash is the same offer
 * to every consumer that dedups by id.
 */

/** The id of this member's offer of a fact. */
export const offerId = (member: string, f: FactRef): string => stableId(f.time, `${f.factId}/${member}/offered`)

/** The `household.offered` fact asking this member to handle `f`. */
export function offered (s: ResponderState, f: FactRef, detail: string, now: number): [ResponderState, Out] {
  const me = s.me.name
  const fact = makeFact('household.offered', {
    id: offerId(me, f),
    subject: notifySubject(me),
    source: `services/household/${me}`,
    seq: s.notifySeq,
    time: new Date(now),
    causationid: f.factId,
    correlationid: f.correlationid,
    data: { member: me, factId: f.factId, factType: f.type, factSeq: f.seq, subject: f.subject, priority: 'normal', detail }
  })
  return [{ ...s, notifySeq: s.notifySeq + 1 }, { topic: notifyFactTopic(me, 'offered'), payload: JSON.stringify(fact), qos: 1, retain: false }]
}

/** The `household.offer-withdrawn` fact: the offer of `f` to this member no longer stands. */
export function withdrawn (s: ResponderState, f: FactRef, reason: 'claimed' | 'resolved', detail: string, now: number): [ResponderState, Out] {
  const me = s.me.name
  const fact = makeFact('household.offer-withdrawn', {
    id: stableId(f.time, `${f.factId}/${me}/offer-withdrawn`),
    subject: notifySubject(me),
    source: `services/household/${me}`,
    seq: s.notifySeq,
    time: new Date(now),
    // Caused by the offer, so the trace of the fact shows fact → offer → withdrawn.
    causationid: offerId(me, f),
    correlationid: f.correlationid,
    data: { member: me, factId: f.factId, subject: f.subject, reason, detail }
  })
  return [{ ...s, notifySeq: s.notifySeq + 1 }, { topic: notifyFactTopic(me, 'offer-withdrawn'), payload: JSON.stringify(fact), qos: 1, retain: false }]
}
