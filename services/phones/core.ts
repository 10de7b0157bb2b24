import type { Fact, FactType } from '#contract'
import { evidence, holderOf, type EvidenceGap, type MirrorView } from '#client'
import type { Notice } from '../lib/channels/channel.ts'
import type { Delivery } from './store.ts'

/**
 * What the notifier turns into notifications: an escalation, or an agent's offer to its member.
 * Both name the open fact the same way, so one path decides and withdraws them.
 */
export type Escalation = Fact<'household.escalated'> | Fact<'household.offered'>

/** The fact an escalation is about, as the evidence rule needs it. */
export const aboutOf = (e: Escalation): { id: string, type: FactType, seq: number, subject: string } =>
  // An unknown type sets no state, so the evidence rule treats it as always open.
  ({ id: e.data.factId, type: e.data.factType as FactType, seq: e.data.factSeq, subject: e.data.subject })

/** What to do with an escalation now. Pure. */
export type Verdict =
  | { verdict: 'notify' }
  | { verdict: 'skip', reason: 'resolved' | 'claimed' | 'busy' | 'away', detail: string }
  | { verdict: 'wait', reason: EvidenceGap | 'no-presence' | 'unreadable-presence' }

const QUIET: ReadonlySet<string> = new Set(['low', 'normal'])

/**
 * Decides from the mirror whether a member is told: never about a fact that is
 * resolved or already claimed (positive evidence only: with no readable state it waits), and a
 * member who is busy or away is not woken for a `low` or `normal` escalation. Quiet hours are
 * already in the escalation's due time (the responder applies the policy).
 */
export function verdictOf (e: Escalation, seen: MirrorView): Verdict {
  const about = aboutOf(e)
  const ev = evidence(about, seen.state(about.subject))
  if (ev.verdict === 'resolved') return { verdict: 'skip', reason: 'resolved', detail: `${about.subject} is "${ev.state.value}" now` }
  if (ev.verdict === 'unknown') return { verdict: 'wait', reason: ev.reason }
  const holder = holderOf(about.id, seen.claim(about.subject))
  if (holder.status === 'held') return { verdict: 'skip', reason: 'claimed', detail: `claimed by ${holder.by}` }
  if (!QUIET.has(e.data.priority)) return { verdict: 'notify' }
  const presence = seen.presence(e.data.member)
  if (!presence) return { verdict: 'wait', reason: 'no-presence' }
  if (presence.status !== 'value') return { verdict: 'wait', reason: 'unreadable-presence' }
  if (presence.value === 'busy' || presence.value === 'away') {
    return { verdict: 'skip', reason: presence.value, detail: `${e.data.member} is ${presence.value} and this is ${e.data.priority}` }
  }
  return { verdict: 'notify' }
}

/** `hall/front-door`, or for another house's thing (`sites/<site>/home/...`) `hall/front-door at grandma`. */
function place (subject: string): string {
  const levels = subject.split('/')
  return levels[0] === 'sites' ? `${levels.slice(3).join('/')} at ${levels[1]}` : levels.slice(1).join('/')
}

/** What the phone shows for an escalation. Pure. */
export function noticeOf (e: Escalation, publicUrl?: string): Notice {
  const about = aboutOf(e)
  const path = `/#/trace/${about.id}`
  return {
    recipient: e.data.member,
    title: `${about.type.replace('.', ' ')}: ${place(about.subject)}`,
    message: e.type === 'household.offered' ? 'Can you do it? Open the app and tap "I\'ll do it".' : e.data.detail,
    priority: e.data.priority,
    fact: { id: about.id, type: about.type, subject: about.subject },
    click: publicUrl ? new URL(path, publicUrl).toString() : path
  }
}

/**
 * Which deliveries to withdraw now, and why: those whose fact the mirror shows resolved, or
 * claimed by anyone (the others stand down, and the claimer needs no reminder). Pure.
 */
export function withdrawals (open: readonly Delivery[], seen: MirrorView): { delivery: Delivery, reason: 'resolved' | 'claimed', detail: string }[] {
  const out: { delivery: Delivery, reason: 'resolved' | 'claimed', detail: string }[] = []
  for (const d of open) {
    const ev = evidence({ id: d.factId, type: d.factType as FactType, seq: d.factSeq }, seen.state(d.subject))
    if (ev.verdict === 'resolved') {
      out.push({ delivery: d, reason: 'resolved', detail: `${d.subject} is "${ev.state.value}" now` })
      continue
    }
    const holder = holderOf(d.factId, seen.claim(d.subject))
    if (holder.status === 'held') out.push({ delivery: d, reason: 'claimed', detail: `claimed by ${holder.by}` })
  }
  return out
}
