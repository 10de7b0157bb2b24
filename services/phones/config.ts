import { z } from 'zod'

/** The `phones` section of the hub config: the web app, its logins, and the notifier. */
export const PhonesConfig = z.strictObject({
  enabled: z.boolean().default(true).describe('Serve the household web app and notify members\' phones'),
  publicUrl: z.string().regex(/^https?:\/\/[^/]+/, 'must be an http(s) URL, e.g. "https://hub.local:8443"').optional()
    .describe('The web app\'s address as phones reach it, e.g. "https://hub.local:8443"; ntfy and webhook notifications link to it (Web Push links within the app)'),
  pushSubject: z.string().regex(/^(mailto:|https:)/).default('mailto:homefacts@localhost')
    .describe('The VAPID subject push services may contact about this hub\'s pushes: a mailto: or https: URL'),
  sessionDays: z.number().positive().default(30).describe('How long a web app login lasts (it survives hub restarts)'),
  tokenMinutes: z.number().positive().default(10).describe('How long the MQTT token a login gives the browser is valid; the app renews it'),
  maxLoginFailures: z.number().int().positive().default(5)
    .describe('Logins per user name within loginWindowSeconds, the right password or not; further attempts get 429 until the window has passed'),
  loginWindowSeconds: z.number().int().positive().default(300).describe('The window in which logins are counted'),
  retryAttempts: z.number().int().positive().default(5).describe('Attempts per channel before a notification counts as failed'),
  retryFirstMs: z.number().int().positive().default(1000).describe('Pause after the first failed attempt; it doubles each time'),
  evidenceTimeoutMs: z.number().int().positive().default(2000)
    .describe('How long the notifier waits for the state (and presence) an escalation needs before it parks it; it never notifies without that evidence, and decides when it arrives')
}).describe('Phones: the web app and notifications')
export type PhonesConfig = z.infer<typeof PhonesConfig>

/** A phone a member gave in the household config: an ntfy topic or a webhook. */
export interface PhoneAddress {
  kind: 'ntfy' | 'webhook'
  address: string
  token?: string | undefined
}

/** What the phones need of the household (the hub's `household` section, as it is now). */
export interface PhonesHousehold {
  members: readonly { name: string, role: string, respondsTo: readonly string[], phones: readonly PhoneAddress[] }[]
}
