/** The shop's Notifications sends through the one channel interface the phones use (issue 12). */
export { LogChannel, WebhookChannel, type Channel } from '../lib/channels/index.ts'
