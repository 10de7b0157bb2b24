import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Agent } from 'node:https'
import { createRequire } from 'node:module'
import type webpush from 'web-push'
import { ChannelGoneError, type Channel, type Notice, type NoticePriority } from './channel.ts'

export interface Vapid {
  subject: string
  publicKey: string
  privateKey: string
}

export interface PushSubscriptionJson {
  endpoint: string
  keys: { p256dh: string, auth: string }
}

/**
 * The hub's VAPID keys (RFC 8292), made on first use and kept in `file`. A phone's subscription is
 * bound to the public key, so a broken file is an error that says how to recover, never new keys.
 */
export function loadOrCreateVapid (file: string, subject: string): Vapid {
  let raw: string
  try {
    raw = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    // web-push makes the keys; it is loaded here, on first run, and for the first push, not at every start.
    const keys = (createRequire(import.meta.url)('web-push') as typeof webpush).generateVAPIDKeys()
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600 })
    return { subject, ...keys }
  }
  try {
    const { publicKey, privateKey } = JSON.parse(raw) as Partial<Vapid>
    if (typeof publicKey !== 'string' || typeof privateKey !== 'string') throw new Error('publicKey and privateKey must be strings')
    return { subject, publicKey, privateKey }
  } catch (err) {
    throw new Error(`the VAPID key file ${file} is unreadable (${(err as Error).message}); restore it from a backup, or delete it to make new keys (every phone must then turn notifications on again)`)
  }
}

/** Web Push urgency (RFC 8030 §5.3) for each priority. */
const URGENCY: Record<NoticePriority, webpush.Urgency> = { low: 'low', normal: 'normal', high: 'high', urgent: 'high' }

export interface WebPushOptions {
  subscription: PushSubscriptionJson
  vapid: Vapid
  /** The agent for the push service's HTTPS (a test receiver's CA, a proxy). */
  agent?: Agent
}

/**
 * Web Push to one browser subscription (`web-push`). `{kind: "notify", tag}` shows a notification
 * under the tag (the fact id); `{kind: "withdraw", tag}` replaces it with a quiet one the service
 * worker closes, since every push must show one. The Topic header is the fact id too, so a
 * withdraw replaces a notify the push service has not delivered yet (RFC 8030 §5.4).
 */
export class WebPushChannel implements Channel {
  readonly name = 'push'
  readonly address: string
  #opts: WebPushOptions

  constructor (opts: WebPushOptions) {
    this.address = opts.subscription.endpoint
    this.#opts = opts
  }

  async send (notice: Notice): Promise<void> {
    await this.#push({ kind: 'notify', tag: notice.fact.id, title: notice.title, body: notice.message, url: notice.click ?? '/', priority: notice.priority }, notice, 3600)
  }

  async withdraw (notice: Notice, reason: string): Promise<void> {
    await this.#push({ kind: 'withdraw', tag: notice.fact.id, title: `resolved: ${notice.title}`, body: reason }, { ...notice, priority: 'low' }, 86_400)
  }

  async #push (payload: Record<string, string>, notice: Notice, ttl: number): Promise<void> {
    const { vapid, subscription } = this.#opts
    // web-push and its crypto dependencies load with the first push, not with every hub start.
    const { default: wp } = await import('web-push')
    try {
      await wp.sendNotification(subscription, JSON.stringify(payload), {
        TTL: ttl,
        urgency: URGENCY[notice.priority],
        topic: topicOf(notice.fact.id),
        vapidDetails: vapid,
        timeout: 5000,
        ...(this.#opts.agent ? { agent: this.#opts.agent } : {})
      })
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode
      // 404/410: the subscription expired or was revoked (RFC 8030 §7.3); never try it again.
      if (status === 404 || status === 410) throw new ChannelGoneError(`push subscription gone (${status}): ${this.address}`)
      throw Object.assign(new Error(`push to ${new URL(this.address).origin} failed${status ? ` (${status})` : ''}: ${(err as Error).message}`), { status })
    }
  }
}

/** A Topic is at most 32 characters of the URL-safe base64 alphabet (RFC 8030 §5.4); a ULID is 26. */
const topicOf = (id: string): string => id.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 32)

