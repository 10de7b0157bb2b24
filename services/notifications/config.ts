import { z } from 'zod'

/** The `notifications` config section: which channels notices go out on. */
export const NotificationsConfig = z.strictObject({
  webhookUrl: z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s) URL').optional().describe('POST every notice as JSON to this URL (Idempotency-Key: the fact id); the log channel is always on')
}).describe('The Notifications service')
export type NotificationsConfig = z.infer<typeof NotificationsConfig>
