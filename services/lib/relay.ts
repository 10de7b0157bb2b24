import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import { DeadLetter, deadletterTopic } from '#contract'
import type { Outbox, OutboxRow } from './outbox.ts'

export interface RelayOptions {
  outbox: Outbox
  url: string
  clientId: string
  credentials: () => Promise<{ username: string, password?: string }>
  log: Logger
  /**
   * 5 (default) reads a refusal from the PUBACK's reason code. 4 (MQTT 3.1.1) has none: the
   * relay reads the broker's dead letters on its own `homefacts/deadletter/<clientId>`.
   */
  protocolVersion?: 4 | 5
}

/** What a PUBACK said, refusals included. */
interface Ack { reasonCode: number, reasonString?: string }

/**
 * Publishes the outbox in order, one QoS 1 message at a time, and marks a row sent only after its
 * PUBACK, which promises the fact is in the ledger and queued for every persistent session. A
 * reason code ≥ 0x80 is a refusal: the row is marked failed and never retried (the same bytes get
 * the same answer). An unacknowledged publish stays in mqtt.js's store and goes again on
 * reconnect; the rows after it wait, which keeps each subject's order.
 */
export class Relay {
  #opts: RelayOptions
  #client: MqttClient | null = null
  #running = false
  #again = false
  #stopped = false
  #idle: (() => void)[] = []
  #inflight = new Set<() => void>()
  #draining: Promise<void> = Promise.resolve()
  /** 3.1.1: refusals read from the dead-letter topic, by the refused payload. */
  #refused = new Map<string, string>()
  #off: (() => void) | null = null

  constructor (opts: RelayOptions) {
    this.#opts = opts
  }

  /** Connects in the background: a producer keeps accepting work while the broker is down. */
  async start (): Promise<void> {
    this.#stopped = false
    const creds = await this.#opts.credentials()
    const options: IClientOptions = {
      clientId: this.#opts.clientId,
      protocolVersion: this.#opts.protocolVersion ?? 5,
      clean: true,
      reconnectPeriod: 500,
      connectTimeout: 5000,
      ...creds
    }
    const client = mqtt.connect(this.#opts.url, options)
    this.#client = client
    if (options.protocolVersion === 4) {
      const letters = deadletterTopic(this.#opts.clientId)
      // The broker writes the dead letter to our socket before the PUBACK of the refused publish.
      client.on('message', (topic, payload) => {
        if (topic !== letters) return
        let raw: unknown
        try { raw = JSON.parse(payload.toString()) } catch { return }
        const letter = DeadLetter.safeParse(raw)
        if (letter.success) this.#refused.set(letter.data.payload, `${letter.data.reason.code}: ${letter.data.reason.message}`)
      })
      client.on('connect', () => { client.subscribe(letters, { qos: 1 }, () => this.kick()) })
    } else {
      client.on('connect', () => this.kick())
    }
    client.on('error', (err) => this.#opts.log.warn({ err: err.message }, 'relay connection error'))
    this.#off = this.#opts.outbox.onAdded(() => this.kick())
  }

  /** Starts a drain unless one is running; one that is running looks again before it ends. */
  kick (): void {
    if (this.#running) { this.#again = true; return }
    if (!this.#client?.connected || this.#stopped) return
    this.#running = true
    this.#draining = this.#drain().finally(() => {
      this.#running = false
      if (this.#again) { this.#again = false; this.kick() } else this.#settleIdle()
    })
  }

  /** Resolves when nothing is pending (or the relay cannot send now). */
  idle (): Promise<void> {
    if (!this.#running && this.#opts.outbox.pending(1).length === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  #settleIdle (): void {
    if (this.#opts.outbox.pending(1).length > 0) return
    for (const r of this.#idle.splice(0)) r()
  }

  async #drain (): Promise<void> {
    const { outbox, log } = this.#opts
    for (;;) {
      this.#again = false
      const rows = outbox.pending()
      if (rows.length === 0) return
      for (const row of rows) {
        if (this.#stopped) return
        const ack = await this.#publish(row)
        if (ack === null) return
        const letter = this.#refused.get(row.payload)
        this.#refused.delete(row.payload)
        if (ack.reasonCode >= 0x80 || letter !== undefined) {
          const reason = letter ?? ack.reasonString ?? `PUBACK reason code 0x${ack.reasonCode.toString(16)}`
          outbox.markFailed(row.id, reason)
          log.error({ topic: row.topic, outboxId: row.id, reasonCode: ack.reasonCode, reason }, 'the broker refused an outbox message; marked failed, not retried')
        } else {
          outbox.markSent(row.id)
        }
      }
    }
  }

  /** Resolves with the PUBACK, or `null` when the relay stops first. */
  #publish (row: OutboxRow): Promise<Ack | null> {
    const client = this.#client!
    return new Promise((resolve) => {
      let done = false
      const finish = (v: Ack | null): void => {
        if (done) return
        done = true
        this.#inflight.delete(onStop)
        resolve(v)
      }
      const onStop = (): void => finish(null)
      this.#inflight.add(onStop)
      client.publish(row.topic, row.payload, { qos: 1, retain: row.retain }, (err, packet) => {
        const ack = packet as { cmd?: string, reasonCode?: number, properties?: { reasonString?: string } } | undefined
        if (ack?.cmd === 'puback') return finish({ reasonCode: ack.reasonCode ?? 0, ...(ack.properties?.reasonString ? { reasonString: ack.properties.reasonString } : {}) })
        // mqtt.js fails a publish only when the client ends; the row stays pending.
        if (err) return finish(null)
        finish({ reasonCode: 0 })
      })
    })
  }

  /** Stops after the publish in flight is acknowledged (or `graceMs` passes): a delivered fact is not left unsent. */
  async stop (graceMs = 2000): Promise<void> {
    this.#stopped = true
    this.#off?.()
    this.#off = null
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.#draining, new Promise((resolve) => { timer = setTimeout(resolve, graceMs) })])
    clearTimeout(timer)
    const client = this.#client
    this.#client = null
    for (const r of [...this.#inflight]) r()
    for (const r of this.#idle.splice(0)) r()
    await client?.endAsync(true)
  }
}
