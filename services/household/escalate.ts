import { memberFactTopic, memberSubject } from '#contract'
import { clearMessage, evidence, holderOf, makeFact, type MirrorView } from '#client'
import { isNotified, policyOf, stableId, stepDue } from './policy.ts'
import { withOpen, without, type Decision, type OpenFact, type Out, type ResponderState } from './state.ts'

/** When this fact's next escalation step for this member is due (epoch ms), or `null`. */
function nextStep (s: ResponderState, f: OpenFact): number | null {
  if (f.claimedBy !== null) return null
  const steps = policyOf(s.household, f.type).escalation
  for (let i = f.stepsDone; i < steps.length; i++) {
    if (isNotified(steps[i]!, s.me)) return stepDue(f.time, steps[i]!, s.household)
  }
  return null
}

/** When this member next has something to do on a timer (an escalation step, a claim to clear), or `null`. */
export function nextDue (s: ResponderState): { factId: string, at: number } | null {
  let best: { factId: string, at: number } | null = null
  for (const f of Object.values(s.open)) {
    const at = nextStep(s, f)
    if (at !== null && (!best || at < best.at)) best = { factId: f.factId, at }
  }
  for (const c of Object.values(s.clearing)) {
    if (!best || c.at < best.at) best = { factId: c.factId, at: c.at }
  }
  return best
}

/**
 * Everything due at `now`, checked against the mirror: escalation steps of open facts nobody
 * claimed, and claims of mine the broker did not clear once their fact resolved.
 */
export function onTick (s0: ResponderState, seen: MirrorView, now: number): Decision {
  let s = s0
  const publish: Out[] = []
  for (const f of Object.values(s0.open)) {
    const at = nextStep(s, f)
    if (at === null || at > now) continue
    const d = escalate(s, f, seen, now)
    s = d.state
    publish.push(...d.publish)
  }
  for (const c of Object.values(s0.clearing)) {
    if (c.at > now) continue
    const { [c.factId]: _done, ...clearing } = s.clearing
    s = { ...s, clearing }
    // Only a claim that still names my fact: a newer one on the topic is someone else's.
    const holder = holderOf(c.factId, seen.claim(c.subject))
    if (holder.status === 'held' && holder.by === s.me.name) publish.push(clearMessage(c.subject))
  }
  return { state: s, publish }
}

/**
 * The due steps of one open fact. What the mirror holds now decides: a resolved fact is
 * dropped, a claimed one stops escalating. A state that went unreadable after the fact was
 * seen open is not evidence of resolution, so the fact still escalates (telling is the safe side).
 */
function escalate (s: ResponderState, f: OpenFact, seen: MirrorView, now: number): Decision {
  if (evidence({ id: f.factId, type: f.type, seq: f.seq }, seen.state(f.subject)).verdict === 'resolved') return { state: without(s, f.factId), publish: [] }
  const holder = holderOf(f.factId, seen.claim(f.subject))
  if (holder.status === 'held') return { state: withOpen(s, { ...f, claimedBy: holder.by }), publish: [] }
  const steps = policyOf(s.household, f.type).escalation
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
        factSeq: f.seq,
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
