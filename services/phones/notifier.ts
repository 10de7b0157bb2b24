import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import { HomefactsError, checkPublish, memberFactTopic, memberSubject, notifyFactTopic, notifySubject, type Fact } from '#contract'
import { INBOX_SESSION, Mirror, openInbox, type MirrorChange } from '#client'
import { ChannelGoneError, type Channel, type Notice } from '../lib/channels/channel.ts'
import { withRetry } from '../lib/channels/retry.ts'
import { stableId } from '../lib/stable-id.ts'
import { aboutOf, noticeOf, verdictOf, withdrawals, type Escalation } from './core.ts'
import type { Delivery, PhoneStore } from './store.ts'

/** The facts the notifier turns into notifications, on one persistent session: escalations and offers. */
export const NOTIFIER_FILTERS = ['household/+/fact/escalated', 'notify/+/fact/offered']

export interface NotifierOptions {
  url: string
  credentials: () => Promise<{ username: string, password?: string }>
  store: PhoneStore
  /** The channels that reach a member now: their push subscriptions and configured phones. */
  channelsFor: (member: string) => Channel[]
  log: Logger
  publicUrl?: string
  retryAttempts: number
  retryFirstMs: number
  evidenceTimeoutMs: number
  /** Called after a notice was handed to a channel (the bench measures this). */
  onSent?: (notice: Notice, channel: Channel) => void
}

type Out = { topic: string, fact: Fact }

/**
 * The household's notifier: turns `household.escalated` facts and agents' offers
 * (`household.offered`) into notifications on each of the member's channels, and withdraws
 * them once their fact is resolved or claimed.
 *
 * - Escalations come on a persistent session. Each is kept in the store (`parked`) before it is
 *   acknowledged, and leaves it only in the transaction that commits its delivery facts
 *   (`notification.sent` / `failed`), so a crash in between means it is decided again at the
 *   next start; the processed ids make a redelivery a no-op, and the channels dedupe a repeated
 *   send. Escalations are decided concurrently: a slow channel holds back none of the others.
 * - Decisions read the mirror (states, claims, presence) on positive evidence: an escalation
 *   whose state has not arrived stays parked, and is decided when it arrives. It is never sent
 *   on silence.
 * - Every claim the broker retains becomes a `household.claimed` fact, so the ledger keeps it.
 */
export class Notifier {
  #opts: NotifierOptions
  #inbox: MqttClient | null = null
  #conn: MqttClient | null = null
  #mirror: Mirror | null = null
  #stopping = new AbortController()
  /** Withdrawals and parked decisions run one at a time, in the order their changes came. */
  #chain: Promise<unknown> = Promise.resolve()
  #parked = new Map<string, Escalation>()
  #inflight = new Set<Promise<void>>()

  constructor (opts: NotifierOptions) {
    this.#opts = opts
  }

  async start (): Promise<void> {
    this.#stopping = new AbortController()
    const creds = await this.#opts.credentials()
    const conn = mqtt.connect(this.#opts.url, { clientId: `phones-mirror-${process.pid}`, clean: true, protocolVersion: 5, reconnectPeriod: 500, ...creds })
    this.#conn = conn
    conn.on('error', (err) => this.#opts.log.warn({ err: err.message }, 'notifier mirror connection error'))
    await new Promise<void>((resolve, reject) => { conn.once('connect', () => resolve()); conn.once('error', reject) })
    const mirror = new Mirror({ client: conn, onUnreadable: (c) => this.#opts.log.warn({ topic: c.topic, code: c.seen.error.code }, 'unreadable retained value') })
    this.#mirror = mirror
    mirror.onChange((c) => this.#onChange(c))
    await mirror.start()
    for (const raw of this.#opts.store.parked()) {
      const e = JSON.parse(raw) as Escalation
      this.#parked.set(e.id, e)
    }
    this.#queue(async () => {
      for (const e of [...this.#parked.values()]) await this.#decideParked(e)
      for (const subject of this.#opts.store.openSubjects()) await this.#withdrawResolved(subject)
    })

    const inbox = mqtt.connect(this.#opts.url, { clientId: 'phones-notifier', ...INBOX_SESSION, reconnectPeriod: 500, ...creds })
    this.#inbox = inbox
    inbox.on('error', (err) => this.#opts.log.warn({ err: err.message }, 'notifier connection error'))
    await openInbox(inbox, {
      filters: NOTIFIER_FILTERS,
      handle: (packet) => this.#handle(packet),
      onUnhandled: (err, packet) => this.#opts.log.warn({ err, topic: packet.topic }, 'escalation not handled; it stays unacknowledged')
    })
  }

  async stop (): Promise<void> {
    this.#stopping.abort()
    await Promise.allSettled([...this.#inflight])
    const clients = [this.#inbox, this.#conn]
    this.#inbox = null
    this.#conn = null
    await Promise.all(clients.map((c) => c?.endAsync()))
    await this.#chain.catch(() => {})
  }

  #queue (task: () => Promise<void>): void {
    this.#chain = this.#chain.then(task).catch((err: unknown) => this.#opts.log.error({ err }, 'notifier task failed'))
  }

  async #handle (packet: IPublishPacket): Promise<void> {
    let e: Escalation
    try {
      const checked = checkPublish({ topic: packet.topic, payload: packet.payload, retain: false })
      if (checked.kind !== 'fact' || (checked.fact.type !== 'household.escalated' && checked.fact.type !== 'household.offered')) return
      e = checked.fact as Escalation
    } catch (err) {
      if (!(err instanceof HomefactsError)) throw err
      this.#opts.log.error({ topic: packet.topic, code: err.code }, 'unreadable escalation skipped')
      return
    }
    if (this.#opts.store.processed(e.id) || this.#parked.has(e.id)) return
    // Kept in the store, then acknowledged: a crash from here on finds it at the next start. The
    // session moves on at once, so one slow channel does not hold back the next escalation.
    this.#opts.store.park(e.id, JSON.stringify(e))
    this.#parked.set(e.id, e)
    const task = this.#process(e)
    this.#inflight.add(task)
    void task.finally(() => this.#inflight.delete(task)).catch((err: unknown) => this.#opts.log.error({ err, escalation: e.id }, 'escalation not decided; it is tried again at the next start'))
  }

  /** Gives the mirror its bound to bring the evidence; without it the escalation stays parked, decided when it comes. */
  async #process (e: Escalation): Promise<void> {
    const mirror = this.#mirror!
    const ready = await mirror.waitFor(() => verdictOf(e, mirror).verdict === 'wait' ? undefined : true, { timeoutMs: this.#opts.evidenceTimeoutMs, signal: this.#stopping.signal })
    if (this.#stopping.signal.aborted || !this.#parked.has(e.id)) return
    if (!ready) {
      const v = verdictOf(e, mirror)
      this.#opts.log.info({ escalation: e.id, factId: e.data.factId, reason: v.verdict === 'wait' ? v.reason : undefined }, 'escalation waits for its evidence; it is decided when it arrives')
      return
    }
    await this.#decide(e)
  }

  /** Decides an escalation the mirror has evidence for: skip it, or send it on every channel. */
  async #decide (e: Escalation): Promise<void> {
    const { store, log } = this.#opts
    const v = verdictOf(e, this.#mirror!)
    if (v.verdict === 'wait') return
    this.#parked.delete(e.id)
    if (v.verdict === 'skip') {
      log.info({ escalation: e.id, member: e.data.member, factId: e.data.factId, reason: v.reason }, `not notifying ${e.data.member}: ${v.detail}`)
      store.commit(e.id, [])
      return
    }
    const notice = noticeOf(e, this.#opts.publicUrl)
    const channels = this.#opts.channelsFor(e.data.member)
    if (channels.length === 0) log.warn({ member: e.data.member, factId: e.data.factId }, `${e.data.member} has no phone channel: no Web Push subscription and no phones in the config`)
    const results = await Promise.all(channels.map((c) => this.#send(c, notice)))
    const about = aboutOf(e)
    const facts: Out[] = []
    const deliveries: Delivery[] = []
    for (const [i, r] of results.entries()) {
      const c = channels[i]!
      const data = { recipient: e.data.member, channel: c.name, address: c.address, message: notice.message, about: notice.fact }
      const common = { subject: notifySubject(e.data.member), causationid: e.id, correlationid: e.correlationid ?? about.id }
      if (r.ok) {
        facts.push({ topic: notifyFactTopic(e.data.member, 'sent'), fact: store.fact('notification.sent', { ...common, data }) })
      } else {
        facts.push({ topic: notifyFactTopic(e.data.member, 'failed'), fact: store.fact('notification.failed', { ...common, data: { ...data, reason: r.reason, attempts: r.attempts } }) })
      }
      deliveries.push({ escalationId: e.id, factId: about.id, factType: about.type, subject: about.subject, factSeq: about.seq, member: e.data.member, channel: c.name, address: c.address, title: notice.title, message: notice.message, status: r.ok ? 'sent' : 'failed' })
    }
    store.commit(e.id, facts, deliveries)
    // The fact may have resolved while the notices were on their way.
    this.#queue(() => this.#withdrawResolved(about.subject))
  }

  async #send (channel: Channel, notice: Notice): Promise<{ ok: true } | { ok: false, reason: string, attempts: number }> {
    let attempts = 0
    try {
      await withRetry(async () => { attempts++; await channel.send(notice) }, {
        attempts: this.#opts.retryAttempts,
        firstMs: this.#opts.retryFirstMs,
        signal: this.#stopping.signal,
        onRetry: ({ error, attemptNumber }) => this.#opts.log.warn({ channel: channel.name, address: channel.address, factId: notice.fact.id, err: error.message, attempt: attemptNumber }, 'send failed; trying again')
      })
      this.#opts.onSent?.(notice, channel)
      return { ok: true }
    } catch (err) {
      if (this.#stopping.signal.aborted) throw err
      if (err instanceof ChannelGoneError) this.#forget(channel)
      this.#opts.log.error({ channel: channel.name, address: channel.address, factId: notice.fact.id, err: (err as Error).message }, 'notification failed')
      return { ok: false, reason: (err as Error).message, attempts: Math.max(1, attempts) }
    }
  }

  /** A push subscription the push service says is gone is forgotten. */
  #forget (channel: Channel): void {
    if (channel.name !== 'push') return
    this.#opts.store.removeSubscription(channel.address)
    this.#opts.log.info({ endpoint: channel.address }, 'push subscription gone; removed')
  }

  #onChange (c: MirrorChange): void {
    if (c.kind === 'claim' && c.seen.status === 'value') this.#recordClaim(c.subject, c.seen.value)
    if (c.kind === 'state' || c.kind === 'claim') this.#queue(() => this.#withdrawResolved(c.subject))
    const waiting = [...this.#parked.values()].filter((e) => c.kind === 'presence' ? e.data.member === c.member : e.data.subject === c.subject)
    if (waiting.length > 0) this.#queue(async () => { for (const e of waiting) await this.#decideParked(e) })
  }

  async #decideParked (e: Escalation): Promise<void> {
    if (this.#parked.has(e.id) && verdictOf(e, this.#mirror!).verdict !== 'wait') await this.#decide(e)
  }

  /** A claim the broker retains, kept in the ledger as a `household.claimed` fact (once). */
  #recordClaim (subject: string, claim: { factId: string, by: string, at: string }): void {
    const id = stableId(Date.parse(claim.at), `${claim.factId}/${claim.by}/claimed`)
    const { store } = this.#opts
    if (store.processed(id)) return
    try {
      const fact = store.fact('household.claimed', { id, subject: memberSubject(claim.by), causationid: claim.factId, correlationid: claim.factId, data: { factId: claim.factId, subject, by: claim.by, at: claim.at } })
      store.commit(id, [{ topic: memberFactTopic(claim.by, 'claimed'), fact }])
    } catch (err) {
      this.#opts.log.warn({ err: (err as Error).message, subject }, 'claim not recorded')
    }
  }

  /** Withdraws, on every channel, what was sent about a subject whose fact is resolved or claimed. */
  async #withdrawResolved (subject: string): Promise<void> {
    const { store, log } = this.#opts
    const due = withdrawals(store.openDeliveries(subject), this.#mirror!)
    for (const { delivery: d, reason, detail } of due) {
      const channel = this.#opts.channelsFor(d.member).find((c) => c.name === d.channel && c.address === d.address)
      const notice: Notice = { recipient: d.member, title: d.title, message: d.message, priority: 'low', fact: { id: d.factId, type: d.factType, subject: d.subject } }
      if (channel) {
        try {
          await withRetry(() => channel.withdraw(notice, detail), { attempts: this.#opts.retryAttempts, firstMs: this.#opts.retryFirstMs, signal: this.#stopping.signal })
        } catch (err) {
          if (this.#stopping.signal.aborted) return
          // Still showing: it is tried again on the next change or start.
          if (!(err instanceof ChannelGoneError)) {
            log.error({ channel: d.channel, address: d.address, factId: d.factId, err: (err as Error).message }, 'withdraw failed; it is tried again later')
            continue
          }
        }
      }
      const fact = store.fact('notification.withdrawn', {
        subject: notifySubject(d.member),
        causationid: d.escalationId,
        correlationid: d.factId,
        data: { recipient: d.member, channel: d.channel, address: d.address, reason, detail, about: notice.fact }
      })
      store.withdrawn([d], [{ topic: notifyFactTopic(d.member, 'withdrawn'), fact }])
      log.info({ member: d.member, channel: d.channel, factId: d.factId, reason }, `notification withdrawn: ${detail}`)
    }
  }
}
