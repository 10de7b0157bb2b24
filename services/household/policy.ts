import type { EscalationStep, Policy, Priority, QuietHours } from './config.ts'

export { stableId } from '../lib/stable-id.ts'

/** Pure helpers over a policy: who a step notifies, quiet hours, deadlines and stable ids. */

const PRIORITY_RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2, urgent: 3 }

const NO_POLICY: Policy = Object.freeze({ mayClaim: [], auto: [], escalation: [] })

/** The policy of a fact type: a type with none may be claimed by anyone and never escalates. */
export const policyOf = (household: { policies: Record<string, Policy> }, type: string): Policy => household.policies[type] ?? NO_POLICY

/** True when a member with this name and role is in the step's audience (none given: everyone). */
export function isNotified (step: EscalationStep, me: { name: string, role: string }): boolean {
  const { roles, members } = step.notify
  if (!roles && !members) return true
  return (roles ?? []).includes(me.role) || (members ?? []).includes(me.name)
}

/** True when the member's role may claim under the policy (an empty list means any role). */
export function mayClaim (policy: Policy, role: string): boolean {
  return policy.mayClaim.length === 0 || policy.mayClaim.includes(role)
}

/** True when the member chose that their agent claims for them (`auto`); otherwise it only asks. */
export function claimsForMe (policy: Policy, member: string): boolean {
  return policy.auto.includes(member)
}

const minutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))

/**
 * When quiet hours end, if `at` (epoch ms) falls inside them; otherwise `null`.
 * Quiet hours are in the hub's local time and may wrap midnight ("22:00"–"07:00").
 */
export function quietUntil (at: number, quiet: QuietHours | null): number | null {
  if (!quiet) return null
  const start = minutes(quiet.start)
  const end = minutes(quiet.end)
  if (start === end) return null
  const d = new Date(at)
  const now = d.getHours() * 60 + d.getMinutes()
  const inside = start < end ? now >= start && now < end : now >= start || now < end
  if (!inside) return null
  const out = new Date(at)
  out.setHours(Math.floor(end / 60), end % 60, 0, 0)
  if (out.getTime() <= at) out.setDate(out.getDate() + 1)
  return out.getTime()
}

export interface Quiet {
  quietHours: QuietHours | null
  bypassQuietHours: Priority
}

/** When step `step` of a fact that happened at `factTime` is due, quiet hours applied. */
export function stepDue (factTime: number, step: EscalationStep, quiet: Quiet): number {
  const due = factTime + Math.round(step.afterSeconds * 1000)
  if (PRIORITY_RANK[step.priority] >= PRIORITY_RANK[quiet.bypassQuietHours]) return due
  return quietUntil(due, quiet.quietHours) ?? due
}
