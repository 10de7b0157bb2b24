import { z } from 'zod'

/**
 * A notification went out to a recipient. Published on `notify/<recipient>/fact/sent` with
 * `causationid` set to the fact it is about, so `homefacts facts tail` shows fact → notification.
 */
export const TYPE = 'notification.sent' as const
export const Schema = z.object({
  recipient: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/).describe('Who was notified (a customer id or a member)'),
  channel: z.string().min(1).describe('The channel it went out on, e.g. "webhook"'),
  address: z.string().min(1).describe('Where it went on that channel: a phone number, a URL, an e-mail address'),
  message: z.string().min(1).describe('What it said'),
  about: z.object({
    id: z.string().min(1),
    type: z.string().min(1),
    subject: z.string().min(1)
  }).strict().describe('The fact it is about')
}).strict().describe('A notification was sent')
export type NotificationSent = z.infer<typeof Schema>
