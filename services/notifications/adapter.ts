import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import { checkPublish, parseTopic, HomefactsError, type Checked, type Fact } from '#contract'
import { INBOX_SESSION, openInbox } from '#client'
import { withRetry, type Channel, type Notice } from '../lib/channels/index.ts'
import { contactOf, isOrderFact, newerContact, noticeFor, type Contact, type OrderFact } from './core.ts'
import type { NotificationStore } from './store.ts'

/** The shop topics Notifications listens to, on one persistent session. */
export const NOTIFICATION_FILTERS = ['shop/orders/+/fact/+', 'shop/customers/+/fact/+', 'shop/customers/+/profile']

export interface ConsumerOptions {
  url: string
  clientId: string
  credentials: () => Promise<{ username: string, password?: string }>
  store: NotificationStore
  channels: readonly Channel[]
  log: Logger
}

/**
 * The idempotent consumer. Each message is acknowledged only after its effect is committed
 * (`openInbox`), so a crash means a redelivery, and the processed ids make a redelivery a no-op. Only a crash between a channel's send and
 * the commit can repeat a send; the channel passes the fact id on as the idempotency key.
 */
export class Consumer {
  #opts: ConsumerOptions
  #client: MqttClient | null = null
  #stopping = new AbortController()

  constructor (opts: ConsumerOptions) {
    this.#opts = opts
  }

  async start (): Promise<void> {
    this.#stopping = new AbortController()
    const client = mqtt.connect(this.#opts.url, { clientId: this.#opts.clientId, ...INBOX_SESSION, reconnectPeriod: 500, ...(await this.#opts.credentials()) })
    this.#client = client
    client.on('error', (err) => this.#opts.log.warn({ err: err.message }, 'notifications connection error'))
    await openInbox(client, {
      filters: NOTIFICATION_FILTERS,
      handle: (packet) => this.#handle(packet),
      onUnhandled: (err, packet) => this.#opts.log.warn({ err, topic: packet.topic }, 'message not handled; it stays unacknowledged')
    })
  }

  async #handle (packet: IPublishPacket): Promise<void> {
    let checked: Checked
    try {
      // A retained message forwarded live arrives with retain 0 [MQTT-3.3.1-9]: the topic says it is state.
      const retain = packet.retain || parseTopic(packet.topic)?.kind === 'profile'
      checked = checkPublish({ topic: packet.topic, payload: packet.payload, retain })
    } catch (err) {
      if (!(err instanceof HomefactsError)) throw err
      // The broker checks the contract too; a message that fails here is logged, not retried.
      this.#opts.log.error({ topic: packet.topic, code: err.code, issues: err.issues }, 'unreadable shop message skipped')
      return
    }
    if (checked.kind === 'profile') {
      if (checked.profile) {
        const { updatedAt: _updatedAt, ...contact } = checked.profile
        await this.#onContact(contact)
      }
      return
    }
    if (checked.kind !== 'fact') return
    const fact: Fact = checked.fact
    const { store } = this.#opts
    if (store.processed(fact.id)) return
    if (fact.type === 'customer.created' || fact.type === 'customer.updated') return this.#onContact(contactOf(fact), fact.id)
    if (!isOrderFact(fact)) return store.markProcessed(fact.id)
    const contact = store.contact(fact.data.customerId)
    if (!contact) {
      this.#opts.log.info({ factId: fact.id, customerId: fact.data.customerId }, 'customer not known yet: the order waits for the profile')
      return store.wait(fact)
    }
    await this.#deliver(fact, contact)
  }

  /** Keeps a newer contact (a stale seq is ignored), then sends what was waiting for it. */
  async #onContact (incoming: Contact, factId?: string): Promise<void> {
    const { store } = this.#opts
    const newer = newerContact(store.contact(incoming.customerId), incoming)
    if (!newer) {
      if (factId) store.markProcessed(factId)
      return
    }
    store.keepContact(newer, factId)
    for (const waiting of store.waitingFor(newer.customerId)) await this.#deliver(waiting, newer)
  }

  async #deliver (fact: OrderFact, contact: Contact): Promise<void> {
    const notice = noticeFor(fact, contact)
    const deliveries: { channel: string, address: string }[] = []
    for (const channel of this.#opts.channels) {
      await this.#send(channel, notice)
      // The log channel has no address of its own: the contact it would reach stands in.
      deliveries.push({ channel: channel.name, address: channel.name === 'log' ? (notice.to?.phone ?? notice.to?.email ?? notice.recipient) : channel.address })
    }
    this.#opts.store.sent(notice, deliveries, new Date())
  }

  /** Sends on one channel, trying again with backoff until it works or the consumer stops. */
  async #send (channel: Channel, notice: Notice): Promise<void> {
    await withRetry(() => channel.send(notice), {
      signal: this.#stopping.signal,
      onRetry: ({ error, attemptNumber }) => this.#opts.log.warn({ err: error.message, channel: channel.name, factId: notice.fact.id, attempt: attemptNumber }, 'send failed; trying again')
    })
  }

  async stop (): Promise<void> {
    this.#stopping.abort()
    const client = this.#client
    this.#client = null
    await client?.endAsync()
  }
}
