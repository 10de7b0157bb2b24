import type { Channel, Notice, NoticePriority } from './channel.ts'
import { request } from './http.ts'

/** ntfy's priorities: 1 (min) to 5 (max), 3 is the default. */
const PRIORITY: Record<NoticePriority, number> = { low: 2, normal: 3, high: 4, urgent: 5 }
const TIMEOUT_MS = 5000

export interface NtfyOptions {
  /** The topic URL, e.g. `https://ntfy.sh/our-house-x7`. */
  url: string
  /** An access token for a protected topic (Bearer). */
  token?: string
}

/**
 * Publishes to an ntfy topic with the fact id as the sequence id, so sending again updates the one
 * notification and a withdraw deletes it (ntfy 2.16+, https://docs.ntfy.sh/publish/#updating-deleting-notifications).
 */
export class NtfyChannel implements Channel {
  readonly name = 'ntfy'
  readonly address: string
  #token: string | undefined

  constructor (opts: NtfyOptions) {
    this.address = opts.url.replace(/\/+$/, '')
    this.#token = opts.token
  }

  async send (notice: Notice): Promise<void> {
    const tags = [notice.fact.type, ...(PRIORITY[notice.priority] >= 4 ? ['warning'] : [])]
    const headers: Record<string, string> = {
      ...this.#auth(),
      'x-title': notice.title,
      'x-priority': String(PRIORITY[notice.priority]),
      'x-tags': tags.join(','),
      ...(notice.click ? { 'x-click': notice.click } : {})
    }
    await request(this.#sequenceUrl(notice), { method: 'POST', headers, body: notice.message, timeoutMs: TIMEOUT_MS })
  }

  async withdraw (notice: Notice): Promise<void> {
    try {
      await request(this.#sequenceUrl(notice), { method: 'DELETE', headers: this.#auth(), timeoutMs: TIMEOUT_MS })
    } catch (err) {
      // Nothing under that sequence id (never sent, or expired from the cache): nothing to remove.
      if ((err as { status?: number }).status === 404) return
      throw err
    }
  }

  #sequenceUrl (notice: Notice): string {
    return `${this.address}/${encodeURIComponent(notice.fact.id)}`
  }

  #auth (): Record<string, string> {
    return this.#token ? { authorization: `Bearer ${this.#token}` } : {}
  }
}
