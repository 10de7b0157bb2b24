import { z } from 'zod'

/**
 * Nobody claimed an open fact within its policy's time, so this member is to be told.
 * Published on `household/<member>/fact/escalated` (the subject is the member to notify);
 * the notification service turns it into a notification. The id is derived from
 * (fact, member, step), so a step fired again after a crash carries the same dedup key.
 */
export const TYPE = 'household.escalated' as const
export const Schema = z.object({
  member: z.string().min(1).describe('Who is to be notified'),
  factId: z.string().min(1).describe('The open fact nobody claimed'),
  factType: z.string().min(1),
  factSeq: z.number().int().nonnegative().describe('seq of the open fact: the evidence rule needs it to tell open from resolved'),
  subject: z.string().min(1).describe('The thing the fact is about'),
  step: z.number().int().positive().describe('Escalation step of the policy, from 1'),
  priority: z.enum(['low', 'normal', 'high', 'urgent']).describe('How loudly to notify'),
  due: z.iso.datetime({ offset: true }).describe('When the step was due: fact time + afterSeconds'),
  detail: z.string().describe('Why, in words')
}).strict().describe('Nobody claimed an open fact in time: notify this member')
export type HouseholdEscalated = z.infer<typeof Schema>
