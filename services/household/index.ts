import type { Logger } from 'pino'
import { Codes, HomefactsError, toIssues, type Fact } from '#contract'
import { HouseholdConfig, Member } from './config.ts'
import { Responder, type Credentials } from './adapter.ts'
import type { HouseholdListener } from './live.ts'
import { settingsOf } from './members.ts'

export { HouseholdConfig } from './config.ts'
export { LiveHousehold, type HouseholdListener } from './live.ts'

/** The account a responder runs as: the hub's `responder` role, speaking for one member. */
export interface ResponderAccount {
  role: 'responder'
  member: string
}

export interface HouseholdOptions {
  household: HouseholdConfig
  /** Follow this household while running (`apply` on each change), from `start()` to `stop()`. */
  live?: { onChange: (listener: HouseholdListener) => () => void }
  /** `mqtt://host:port` of the broker. */
  mqttUrl: string
  /** Credentials of the MQTT user `household-<name>`: a least-privilege `responder` account for that member. */
  credentials: (username: string, account: ResponderAccount) => Promise<Credentials>
  log: Logger
  /** See `ResponderOptions.beforeAck`. */
  beforeAck?: (member: string, fact: Fact) => Promise<void>
}

/**
 * The household service: one responder per member, each with its own credentials and
 * persistent MQTT session. Members decide for themselves; nothing here coordinates them.
 */
export class Household {
  readonly responders = new Map<string, Responder>()
  #opts: HouseholdOptions
  #household: HouseholdConfig
  #started = false
  #off: (() => void) | undefined

  constructor (opts: HouseholdOptions) {
    this.#opts = opts
    this.#household = opts.household
    for (const m of opts.household.members) this.#create(m)
  }

  #create (member: Member): Responder {
    const { beforeAck } = this.#opts
    const responder = new Responder({
      url: this.#opts.mqttUrl,
      credentials: () => this.#opts.credentials(`household-${member.name}`, { role: 'responder', member: member.name }),
      member,
      household: this.#household,
      log: this.#opts.log,
      ...(beforeAck ? { beforeAck: (fact: Fact) => beforeAck(member.name, fact) } : {})
    })
    this.responders.set(member.name, responder)
    return responder
  }

  /** The responder of one member; throws `HF_CONFIG` for an unknown name. */
  responder (name: string): Responder {
    const r = this.responders.get(name)
    if (!r) throw new HomefactsError(Codes.CONFIG, `no household member named "${name}"`)
    return r
  }

  async start (): Promise<void> {
    this.#started = true
    this.#off = this.#opts.live?.onChange((next) => this.apply(next))
    await Promise.all([...this.responders.values()].map((r) => r.start()))
  }

  /**
   * Runs with a new household while running: a new member's responder starts, a removed member's
   * stops (its session stays with the broker), a changed member's restarts; a change of policies
   * or bounds restarts every responder. Restarting loses nothing: each session queues its facts,
   * and the mirror rebuilds the open ones.
   */
  async apply (next: HouseholdConfig): Promise<void> {
    const before = this.#household
    this.#household = next
    const settingsChanged = JSON.stringify(settingsOf(before)) !== JSON.stringify(settingsOf(next))
    const wanted = new Map(next.members.map((m) => [m.name, m]))
    for (const [name, r] of [...this.responders]) {
      const m = wanted.get(name)
      if (m && !settingsChanged && JSON.stringify(m) === JSON.stringify(r.member)) continue
      this.responders.delete(name)
      await r.stop()
    }
    const created: Responder[] = []
    for (const m of next.members) if (!this.responders.has(m.name)) created.push(this.#create(m))
    if (this.#started) await Promise.all(created.map((r) => r.start()))
  }

  /** Adds a member while running: a new responder with its own session; nobody else changes. */
  async add (member: unknown): Promise<Responder> {
    const parsed = Member.safeParse(member)
    if (!parsed.success) throw new HomefactsError(Codes.CONFIG, 'invalid household member', toIssues(parsed.error.issues))
    if (this.responders.has(parsed.data.name)) throw new HomefactsError(Codes.CONFIG, `household member "${parsed.data.name}" already exists`)
    const r = this.#create(parsed.data)
    await r.start()
    return r
  }

  async stop (): Promise<void> {
    this.#started = false
    this.#off?.()
    this.#off = undefined
    await Promise.all([...this.responders.values()].map((r) => r.stop()))
  }
}

/** What the hub hands a service (structurally the hub's `ServiceContext`). */
export interface HouseholdContext {
  /** The household, parsed once; the hub's changes while it runs (config file and member users). */
  household: { readonly current: HouseholdConfig, onChange: (listener: HouseholdListener) => () => void }
  mqttUrl: string
  credentials: (name: string, account?: ResponderAccount) => Promise<Credentials>
  log: Logger
}

/** The service definition registered in `services/hub/services.ts`. */
export const householdService = {
  name: 'household',
  describe: 'One agent per household member: decides whom to ask (offers), skips what is resolved, escalates',
  create: (ctx: HouseholdContext): Household => new Household({
    household: ctx.household.current,
    live: ctx.household,
    mqttUrl: ctx.mqttUrl,
    credentials: (name, account) => ctx.credentials(name, account),
    log: ctx.log
  })
}
