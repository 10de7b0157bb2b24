import { EventEmitter } from 'node:events'
import type { MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import { HomefactsError } from '#contract'
import type { Ledger } from '../broker/index.ts'
import { connectMqttAsync } from '../services/lib/mqtt.ts'
import type { EstateSettings } from './config.ts'
import { claimSite, ensureStream, openLink, retainedBucket, type Link } from './link.ts'
import { Outbox } from './outbox.ts'
import { Inbox } from './inbox.ts'
import { RetainedIn, RetainedOut } from './retained.ts'
import { EstateClaims } from './claims.ts'

export { EstateConfig, parseEstate, type EstateSettings } from './config.ts'

/** What the hub hands the estate. */
export interface EstateDeps {
  ledger: Ledger
  log: Logger
  /** This house's id: random, kept in its data folder; the sites bucket holds it under the site name. */
  house: () => string
  /** The `estate` account on this house's broker. */
  credentials: () => Promise<{ username: string, password: string }>
  /** `mqtt://...` of this house's broker. */
  mqttUrl: () => string
}

/** Where the house stands: alone (not linked yet, or the link is down), linked, or refused for good. */
export type EstateStatus = 'alone' | 'linked' | 'refused'

const RETRY_MS = 1000

/**
 * This house in the estate (docs/estate.md): its link to the other houses through NATS
 * JetStream. The house's broker and ledger stay its own and it works alone whenever the link is
 * down; the estate only carries what it shares out (`Outbox`, `RetainedOut`), what it follows in
 * (`Inbox`, `RetainedIn`), and claims across houses (`EstateClaims`, the broker's claim authority).
 *
 * `start()` returns once the estate's broker connections are up; the link is made in the
 * background and remade after any outage. A wrong credential or a site name another house holds
 * is logged as `HF_ESTATE_REFUSED` and the estate stops trying; the house runs on alone.
 */
export class Estate extends EventEmitter<{ linked: [], refused: [HomefactsError] }> {
  readonly settings: EstateSettings
  readonly authority: EstateClaims
  readonly outbox: Outbox
  readonly inboxes: Inbox[] = []
  #deps: EstateDeps
  #retainedOut: RetainedOut
  #retainedIn: RetainedIn[] = []
  #clients: MqttClient[] = []
  #link: Link | null = null
  #stop = new AbortController()
  #running: Promise<void> | null = null
  status: EstateStatus = 'alone'
  /** Why the estate refused this house, once it has. */
  refusal: HomefactsError | null = null

  constructor (settings: EstateSettings, deps: EstateDeps) {
    super()
    this.settings = settings
    this.#deps = deps
    const log = deps.log
    this.authority = new EstateClaims({ site: settings.site, timeoutMs: settings.claimTimeoutMs, log })
    this.outbox = new Outbox({ site: settings.site, share: settings.share, ledger: deps.ledger, log, ensureStream: (link) => ensureStream(link, settings) })
    this.#retainedOut = new RetainedOut({ share: settings.share, log })
  }

  /** For `GET /api/health`: this house's site, whether it is linked, and why it was refused. */
  health (): { site: string, status: EstateStatus, refusal?: { code: string, message: string } } {
    return { site: this.settings.site, status: this.status, ...(this.refusal ? { refusal: { code: this.refusal.code, message: this.refusal.message } } : {}) }
  }

  async start (): Promise<void> {
    const creds = await this.#deps.credentials()
    const connect = async (clientId: string): Promise<MqttClient> => {
      const client = await connectMqttAsync(this.#deps.mqttUrl(), { clientId, clean: true, protocolVersion: 5, reconnectPeriod: 500, ...creds })
      client.on('error', (err) => this.#deps.log.warn({ err: err.message, clientId }, 'estate: broker connection error'))
      this.#clients.push(client)
      return client
    }
    // Claims and retained values on one connection, followed facts on another: a long catch-up
    // does not hold a claim's answer behind it.
    const conn = await connect('homefacts-estate')
    const facts = await connect('homefacts-estate-facts')
    await this.#retainedOut.watch(conn)
    for (const { site: from, filters } of this.settings.follow) {
      const log = this.#deps.log.child({ from })
      this.inboxes.push(new Inbox({ site: this.settings.site, from, filters, client: facts, ledger: this.#deps.ledger, log }))
      this.#retainedIn.push(new RetainedIn({ site: this.settings.site, from, filters, client: conn, log }))
    }
    this.#stop = new AbortController()
    this.#running = this.#run(conn)
  }

  async stop (): Promise<void> {
    this.#stop.abort()
    await this.#running
    this.#running = null
    await Promise.all(this.#clients.splice(0).map((c) => c.endAsync()))
  }

  /** Links, then watches the link; links again after it closed. */
  async #run (conn: MqttClient): Promise<void> {
    const { log } = this.#deps
    const signal = this.#stop.signal
    while (!signal.aborted) {
      let link: Link
      try {
        link = await openLink(this.settings, signal)
      } catch (err) {
        if (signal.aborted) return
        if (err instanceof HomefactsError) return this.#refused(err)
        await sleep(RETRY_MS, signal)
        continue
      }
      try {
        await claimSite(link, this.settings, this.#deps.house())
        await ensureStream(link, this.settings)
        const kv = await retainedBucket(link, this.settings)
        this.#link = link
        this.outbox.start(link)
        this.#retainedOut.link(kv)
        this.authority.serve(link, conn)
        for (const part of [...this.inboxes, ...this.#retainedIn]) part.start(link)
        this.status = 'linked'
        log.info({ site: this.settings.site, servers: this.settings.servers, follows: this.settings.follow.map((f) => f.site) }, 'estate: linked')
        this.emit('linked')
        void this.#watchStatus(link)
        await Promise.race([link.nc.closed(), sleep(Infinity, signal)])
      } catch (err) {
        if (err instanceof HomefactsError) {
          await link.nc.close().catch(() => {})
          return this.#refused(err)
        }
        if (!signal.aborted) log.warn({ err: (err as Error).message }, 'estate: could not set up the link; trying again')
      }
      await this.#unlink()
      if (!signal.aborted) await sleep(RETRY_MS, signal)
    }
  }

  async #unlink (): Promise<void> {
    const link = this.#link
    this.#link = null
    this.status = this.status === 'refused' ? 'refused' : 'alone'
    this.authority.unlink()
    this.#retainedOut.unlink()
    await Promise.all([this.outbox.stop(), ...this.inboxes.map((i) => i.stop()), ...this.#retainedIn.map((r) => r.stop())])
    await this.#retainedOut.stop()
    await link?.nc.close().catch(() => {})
  }

  /** Logs the link going down and coming back (NATS reconnects by itself). */
  async #watchStatus (link: Link): Promise<void> {
    for await (const s of link.nc.status()) {
      if (s.type === 'disconnect') {
        this.status = 'alone'
        this.#deps.log.warn({ server: s.server }, 'estate: NATS server lost; this house runs alone until the link is back')
      } else if (s.type === 'reconnect') {
        this.status = 'linked'
        this.#deps.log.info({ server: s.server }, 'estate: NATS link back')
        for (const part of [this.outbox, ...this.inboxes, ...this.#retainedIn]) part.kick()
      }
    }
  }

  #refused (err: HomefactsError): void {
    this.status = 'refused'
    this.refusal = err
    this.#deps.log.error({ code: err.code }, `estate: refused: ${err.message}; this house runs alone`)
    this.emit('refused', err)
  }
}

/** Waits `ms` (`Infinity`: for ever), or until `signal` aborts (at once if it has). */
function sleep (ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = ms === Infinity ? undefined : setTimeout(done, ms)
    function done (): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
