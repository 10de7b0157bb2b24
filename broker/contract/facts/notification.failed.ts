import { z } from 'zod'

/**
 * A notification could not be delivered on one channel after its retries. Published on
 * `notify/<recipient>/fact/failed` with `causationid` set to the fact that asked for it (an
 * escalation), so the trace shows which channel failed and why.
 */
export const TYPE = 'notification.failed' as const
export const Schema = z.object({
  recipient: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/).describe('Who was to be notified'),
  channel: z.string().min(1).describe('The channel that failed, e.g. "ntfy"'),
  address: z.string().min(1).describe('Where on that channel'),
  message: z.string().min(1).describe('What it would have said'),
  reason: z.string().min(1).describe('Why it failed, from the last attempt'),
  attempts: z.number().int().positive().describe('How many attempts were made'),
  about: z.object({
    id: z.string().min(1),
    type: z.string().min(1),
    subject: z.string().min(1)
  }).strict().describe('The fact it is about')
}).strict().describe('A notification could not be delivered')
export type NotificationFailed = z.infer<typeof Schema>
