import { z } from 'zod'
import { Presence, SEGMENT, isFactType } from '#contract'

/** How loudly a member is told; ordered from quiet to loud. */
export const Priority = z.enum(['low', 'normal', 'high', 'urgent'])
export type Priority = z.infer<typeof Priority>

const Name = z.string().regex(SEGMENT, 'must be lower-case kebab-case')
const FactTypeName = z.string().refine((t): boolean => isFactType(t), 'must be a fact type in the contract registry')
const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be "HH:MM" (24 h)')

/**
 * One way to reach a member's phone besides Web Push, which needs no config: the member turns
 * it on in the web app. Only kinds that really deliver are offered; `sms` and `email` are
 * refused with a hint, since homefacts sends neither itself.
 */
const REFUSED_KINDS: Record<string, string> = {
  push: 'Web Push needs no config: open the web app on the phone and tap "Notify me on this phone"',
  sms: 'homefacts sends no SMS itself: use {"kind":"webhook","address":"<your SMS gateway URL>"}',
  email: 'homefacts sends no e-mail itself: use {"kind":"webhook","address":"<your mail relay URL>"} or ntfy'
}
export const PhoneChannel = z.object({
  kind: z.string().superRefine((k, ctx) => {
    if (k === 'ntfy' || k === 'webhook') return
    ctx.addIssue({ code: 'custom', message: REFUSED_KINDS[k] ?? `unknown channel kind "${k}": use "ntfy" or "webhook"` })
  }).describe('Which channel: "ntfy" or "webhook"'),
  address: z.url({ protocol: /^https?$/ }).describe('ntfy: the topic URL, e.g. "https://ntfy.sh/our-kitchen-x7"; webhook: the URL that gets the JSON'),
  token: z.string().min(1).optional().describe('ntfy: an access token for a protected topic (sent as a Bearer token)')
}).strict().transform((c) => c as { kind: 'ntfy' | 'webhook', address: string, token?: string }).describe('A phone channel of a member')
export type PhoneChannel = z.infer<typeof PhoneChannel>

/** A household member and what they respond to. */
export const Member = z.strictObject({
  name: Name.describe('Member name, e.g. "mummy"; also their topic segment and MQTT user "household-<name>"'),
  role: Name.default('parent').describe('Role, e.g. "parent" or "grandparent"; policies refer to roles'),
  phones: z.array(PhoneChannel).default([]).describe('How to reach them'),
  respondsTo: z.array(FactTypeName).default(['cup.empty']).describe('Fact types this member decides on'),
  presence: Presence.default('home').describe('Presence the hub retains on household/<name>/presence at start when none is retained; the responder never assumes it')
}).describe('A household member')
export type Member = z.infer<typeof Member>

/** Who an escalation step notifies. Neither list given means everyone who responds to the fact. */
export const Audience = z.strictObject({
  roles: z.array(Name).optional().describe('Notify members with these roles'),
  members: z.array(Name).optional().describe('Notify these members')
}).describe('Who to notify; empty means everyone')

export const EscalationStep = z.strictObject({
  afterSeconds: z.number().positive().describe('Seconds after the fact\'s time, if nobody has claimed it'),
  notify: Audience.prefault({}),
  priority: Priority.default('high').describe('How loudly')
}).describe('One escalation step')
export type EscalationStep = z.infer<typeof EscalationStep>

/** What happens with one fact type: who may claim it, and how it escalates. */
export const Policy = z.strictObject({
  mayClaim: z.array(Name).default([]).describe('Roles whose agents ask them (offer the fact); empty means anyone (who is at home)'),
  auto: z.array(Name).default([]).describe('Members whose agent claims for them at once instead of asking (a claim is a person\'s promise, so only for those who chose it)'),
  escalation: z.array(EscalationStep).default([]).describe('Steps, in order of afterSeconds')
}).refine((p) => p.escalation.every((s, i, all) => i === 0 || all[i - 1]!.afterSeconds <= s.afterSeconds), 'escalation steps must be in order of afterSeconds')
  .describe('Policy for one fact type')
export type Policy = z.infer<typeof Policy>

export const QuietHours = z.strictObject({
  start: ClockTime.describe('Start, local time of the hub'),
  end: ClockTime.describe('End, local time; may be on the next day')
}).describe('Escalations below the bypass priority wait until quiet hours end')
export type QuietHours = z.infer<typeof QuietHours>

const DEFAULT_POLICIES = {
  'cup.empty': {
    mayClaim: [],
    auto: [],
    escalation: [
      { afterSeconds: 60, notify: {}, priority: 'high' },
      { afterSeconds: 300, notify: { roles: ['grandparent'] }, priority: 'high' }
    ]
  }
} as const

/** The `household` section of the hub config. */
export const HouseholdConfig = z.strictObject({
  members: z.array(Member).default([]).refine((ms) => new Set(ms.map((m) => m.name)).size === ms.length, 'member names must be unique')
    .describe('Members; each gets a responder with its own MQTT session'),
  policies: z.record(FactTypeName, Policy).default(() => structuredClone(DEFAULT_POLICIES) as unknown as Record<string, Policy>)
    .describe('Policy per fact type; a type with no policy may be claimed by anyone and never escalates'),
  quietHours: QuietHours.nullable().default(null).describe('Quiet hours, or null for none'),
  bypassQuietHours: Priority.default('urgent').describe('Escalations of this priority or louder ignore quiet hours'),
  evidenceTimeoutMs: z.number().int().positive().default(2000)
    .describe('How long a responder waits for the state (or presence) a decision needs before it publishes a deferred decision; it decides when the evidence arrives'),
  clearClaimAfterMs: z.number().int().nonnegative().default(1000)
    .describe('How long after its fact resolves a member waits for the broker to clear its claim (the hub does) before clearing it itself')
}).describe('The household: members, what they respond to, escalation')
export type HouseholdConfig = z.infer<typeof HouseholdConfig>
