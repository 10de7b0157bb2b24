import type { Logger } from 'pino'
import type { Notice } from './core.ts'

/**
 * One way to reach people. `send` resolves with the address it reached once the notice is
 * handed over, and throws when it could not be; it may be called again with the same notice
 * after a crash, so a channel passes `notice.fact.id` on as its idempotency key. The phones
 * issue adds Web Push and ntfy behind this interface.
 */
export interface Channel {
  readonly name: string
  send: (notice: Notice) => Promise<{ address: string }>
}

/** Writes each notice to the log: the channel that always works, for a hub with nothing else set up. */
export class LogChannel implements Channel {
  readonly name = 'log'
  #log: Logger
  constructor (log: Logger) { this.#log = log }
  async send (notice: Notice): Promise<{ address: string }> {
    const address = notice.contact.phone ?? notice.contact.email ?? notice.recipient
    this.#log.info({ to: address, recipient: notice.recipient, factId: notice.fact.id }, notice.message)
    return { address }
  }
}

/**
 * POSTs each notice as JSON to a URL (an SMS gateway, a chat bot, a test receiver). The
 * `Idempotency-Key` header is the fact id, so a receiver can drop the repeat a crash between
 * the send and its commit can cause. A non-2xx answer is a failure.
 */
export class WebhookChannel implements Channel {
  readonly name = 'webhook'
  #url: string
  #timeoutMs: number
  constructor (url: string, timeoutMs = 5000) {
    this.#url = url
    this.#timeoutMs = timeoutMs
  }

  async send (notice: Notice): Promise<{ address: string }> {
    const { contact } = notice
    const res = await fetch(this.#url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': notice.fact.id },
      body: JSON.stringify({
        recipient: notice.recipient,
        message: notice.message,
        to: { name: contact.name, ...(contact.phone ? { phone: contact.phone } : {}), ...(contact.email ? { email: contact.email } : {}) },
        fact: notice.fact
      }),
      signal: AbortSignal.timeout(this.#timeoutMs)
    })
    await res.arrayBuffer()
    if (!res.ok) throw new Error(`webhook ${this.#url} answered ${res.status}`)
    return { address: this.#url }
  }
}
