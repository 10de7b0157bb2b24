import type { Channel, Notice } from './channel.ts'
import { request } from './http.ts'

/**
 * POSTs each notice as JSON to a URL (an SMS gateway, a chat bot, Home Assistant's webhook). The
 * `Idempotency-Key` is the fact id (`<id>:withdraw` for a withdraw): a receiver drops a repeat.
 */
export class WebhookChannel implements Channel {
  readonly name = 'webhook'
  readonly address: string
  #timeoutMs: number

  constructor (url: string, timeoutMs = 5000) {
    this.address = url
    this.#timeoutMs = timeoutMs
  }

  async send (notice: Notice): Promise<void> {
    await this.#post({ event: 'notify', ...body(notice) }, notice.fact.id)
  }

  async withdraw (notice: Notice, reason: string): Promise<void> {
    await this.#post({ event: 'withdraw', ...body(notice), reason }, `${notice.fact.id}:withdraw`)
  }

  async #post (payload: unknown, key: string): Promise<void> {
    await request(this.address, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(payload),
      timeoutMs: this.#timeoutMs
    })
  }
}

function body (n: Notice): Record<string, unknown> {
  return {
    recipient: n.recipient,
    title: n.title,
    message: n.message,
    priority: n.priority,
    fact: n.fact,
    ...(n.click ? { click: n.click } : {}),
    ...(n.to ? { to: n.to } : {})
  }
}
