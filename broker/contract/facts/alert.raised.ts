import { z } from 'zod'

/**
 * A derived fact: a flow noticed something that matters (the door opened while everyone is
 * away, motion in the hallway at night). It says what happened and why it matters, never whom
 * to tell: the notification service decides that. Published by Node-RED flows on
 * `flows/<flow>/fact/raised` (the subject is the flow).
 */
export const TYPE = 'alert.raised' as const
export const Schema = z.object({
  reason: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/).describe('Stable kebab-case name of the rule, e.g. "door-opened-while-away"'),
  severity: z.enum(['info', 'warning', 'critical']).describe('How much it matters'),
  detail: z.string().min(1).describe('Why, in words'),
  about: z.object({
    factId: z.string().min(1),
    factType: z.string().min(1),
    subject: z.string().min(1)
  }).strict().optional().describe('The fact that set it off')
}).strict().describe('A flow noticed something that matters')
export type AlertRaised = z.infer<typeof Schema>
