/**
 * The one channel interface: the household's phones and the shop's Notifications both send
 * through it. A channel is bound to one address (a push subscription, an ntfy topic, a webhook URL).
 */

/** How loudly, as the household policy says; each channel maps it to its own scale. */
export type NoticePriority = 'low' | 'normal' | 'high' | 'urgent'

/** What goes out for one fact. */
export interface Notice {
  /** Who is told: a household member or a customer id. */
  recipient: string
  title: string
  message: string
  priority: NoticePriority
  /** The fact it is about. Its id is the idempotency key, the Web Push `tag` and the ntfy sequence id. */
  fact: { id: string, type: string, subject: string }
  /** Where a tap leads (the web app's trace of the fact), when there is one. */
  click?: string
  /** Contact details, for channels that hand them on (the shop's webhook to an SMS gateway). */
  to?: { name: string, phone?: string, email?: string }
}

/** A channel answered that the address is gone for good (Web Push 404/410): stop trying, forget it. */
export class ChannelGoneError extends Error {
  readonly code = 'HF_CHANNEL_GONE'
}

export interface Channel {
  /** The kind: `push`, `ntfy`, `webhook`, `log`. */
  readonly name: string
  /** Where it delivers, for the delivery facts (a push endpoint's origin, an ntfy topic URL, a webhook URL). */
  readonly address: string
  /**
   * Resolves once the receiver accepted the notice. Sent again (after a crash), it must make no
   * second notification: the fact id travels as the idempotency key, tag or sequence id.
   */
  send: (notice: Notice) => Promise<void>
  /** The fact is resolved: remove or replace what `send` delivered for it (safe for a notice never sent). */
  withdraw: (notice: Notice, reason: string) => Promise<void>
}
