import { z } from 'zod'

/**
 * A notification that was sent is withdrawn from a channel, because the fact it is about is
 * resolved or claimed. Published on `notify/<recipient>/fact/withdrawn` with `causationid` set
 * to the fact that asked for the notification.
 */
export const TYPE = 'notification.withdrawn' as const
export const Schema = z.object({
  recipient: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/).describe('Who had been notified'),
  channel: z.string().min(1).describe('The channel it is withdrawn from'),
  address: z.string().min(1).describe('Where on that channel'),
  reason: z.enum(['resolved', 'claimed']).describe('Why: the fact is resolved, or someone claimed it'),
  detail: z.string().describe('Why, in words, e.g. "claimed by daddy"'),
  about: z.object({
    id: z.string().min(1),
    type: z.string().min(1),
    subject: z.string().min(1)
  }).strict().describe('The fact it is about')
}).strict().describe('A notification was withdrawn')
export type NotificationWithdrawn = z.infer<typeof Schema>
