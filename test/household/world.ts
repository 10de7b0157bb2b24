import type { MqttClient } from 'mqtt'
import { pino } from 'pino'
import { presenceTopic, stateTopic, thingFactTopic, thingSubject, type Fact, type ThingState } from '#contract'
import { makeFact } from '#client'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox, type WireMessage } from '../helpers/mqtt.ts'
import { Household, HouseholdConfig, type HouseholdOptions } from '../../services/household/index.ts'
import type { HouseholdDecided, HouseholdEscalated } from '#contract'

/** A simulated cup: publishes its facts and retained state the way a device does (seq grows by one). */
export class TestCup {
  seq = 0
  constructor (readonly client: MqttClient, readonly area = 'kitchen', readonly thing = 'lily-cup') {}

  get subject (): string {
    return thingSubject(this.area, this.thing)
  }

  async #emit (type: 'cup.empty' | 'cup.filled', level: number, value: string): Promise<Fact> {
    const fact = makeFact(type, { subject: this.subject, source: `devices/${this.area}-${this.thing}`, seq: ++this.seq, data: { level } })
    await this.client.publishAsync(thingFactTopic(this.area, this.thing, type === 'cup.empty' ? 'empty' : 'filled'), JSON.stringify(fact), { qos: 1 })
    const state: ThingState = { value, seq: fact.seq, since: fact.time, factId: fact.id }
    await this.client.publishAsync(stateTopic(this.area, this.thing), JSON.stringify(state), { qos: 1, retain: true })
    return fact
  }

  empty (): Promise<Fact> {
    return this.#emit('cup.empty', 0.02, 'empty')
  }

  filled (): Promise<Fact> {
    return this.#emit('cup.filled', 0.95, 'full')
  }
}

export interface World {
  t: TestHub
  /** Sees everything, with the retain flag as published. */
  observer: MqttClient
  wire: Inbox
  device: MqttClient
  /** Publishes presence as the member's phone would. */
  phone: MqttClient
  newCup: (thing?: string) => TestCup
  /** Retains a member's presence, as their phone does. */
  presence: (member: string, value: string) => Promise<void>
  /**
   * A household on this hub. Each member whose presence this world has not set gets its
   * configured default presence retained first, as the hub does for its configured members
   * (`presence: false` leaves it out). `mqttUrl` connects the responders elsewhere (a proxy).
   */
  household: (config: unknown, opts?: { beforeAck?: HouseholdOptions['beforeAck'], presence?: boolean, mqttUrl?: string }) => Promise<Household>
  stop: () => Promise<void>
}

const OBSERVED = ['home/+/+/fact/+', 'home/+/+/state', 'home/+/+/claim', 'household/+/fact/+', 'household/+/presence', 'notify/+/fact/+', 'homefacts/deadletter/#']

/** A real hub, a device, a phone and an observer on the wire. */
export async function startWorld (): Promise<World> {
  const t = await startTestHub()
  const dev = await t.addUser({ username: 'cups', role: 'device', things: ['kitchen/+'] })
  const adm = await t.addUser({ username: 'observer', role: 'admin' })
  const device = await connect(t.mqttUrl, { ...dev, clientId: 'cups', protocolVersion: 5 })
  const phone = await connect(t.mqttUrl, { ...adm, clientId: 'phones', protocolVersion: 5 })
  // One observer per kind of topic, so what the tests see does not depend on the broker keeping
  // retained and plain publishes in one order across topics (see docs/household.md).
  const observers = await Promise.all(OBSERVED.map((_f, i) => connect(t.mqttUrl, { ...adm, clientId: `observer-${i}`, protocolVersion: 5 })))
  const observer = observers[0]!
  const wire = new Inbox(observer)
  // The other observers' messages join the first one's, so one inbox holds everything seen.
  for (const o of observers.slice(1)) o.on('message', (...args) => observer.emit('message', ...args))
  await Promise.all(observers.map((o, i) => o.subscribeAsync(OBSERVED[i]!, { qos: 1, rap: true, rh: 2 })))
  const houses: Household[] = []
  const present = new Set<string>()
  const presence = async (member: string, value: string): Promise<void> => {
    present.add(member)
    await phone.publishAsync(presenceTopic(member), value, { qos: 1, retain: true })
  }
  return {
    t,
    observer,
    wire,
    device,
    phone,
    newCup: (thing = 'lily-cup') => new TestCup(device, 'kitchen', thing),
    presence,
    household: async (config, opts = {}) => {
      const household = HouseholdConfig.parse(config)
      if (opts.presence !== false) {
        for (const m of household.members) if (!present.has(m.name)) await presence(m.name, m.presence)
      }
      const house = new Household({
        household,
        mqttUrl: opts.mqttUrl ?? t.mqttUrl,
        credentials: (name, account) => t.hub.credentials(name, account),
        log: pino({ level: process.env.HOMEFACTS_TEST_LOG ?? 'silent' }),
        ...(opts.beforeAck ? { beforeAck: opts.beforeAck } : {})
      })
      houses.push(house)
      return house
    },
    stop: async () => {
      for (const h of houses) await h.stop()
      await Promise.all([device, phone, ...observers].map((c) => c.endAsync()))
      await t.stop()
    }
  }
}

export const parse = (m: WireMessage): unknown => m.payload === '' ? '' : JSON.parse(m.payload)

/** `household.decided` facts on the wire, optionally of one member and about one fact. */
export function decisions (wire: Inbox, member?: string, factId?: string): Fact[] {
  return wire.messages.filter((m) => /^household\/[^/]+\/fact\/decided$/.test(m.topic))
    .map((m) => JSON.parse(m.payload) as Fact)
    .filter((f) => (!member || (f.data as HouseholdDecided.HouseholdDecided).member === member) && (!factId || f.causationid === factId))
}

export const decisionOf = (f: Fact): HouseholdDecided.HouseholdDecided => f.data as HouseholdDecided.HouseholdDecided
export const escalationOf = (f: Fact): HouseholdEscalated.HouseholdEscalated => f.data as HouseholdEscalated.HouseholdEscalated

/** A predicate for `wire.wait`: a decided fact by `member` about `factId`. */
export const decidedBy = (member: string, factId: string) => (m: WireMessage): boolean =>
  m.topic === `household/${member}/fact/decided` && (JSON.parse(m.payload) as Fact).causationid === factId

/** A predicate for `wire.wait`: an escalated fact for `member` about `factId`. */
export const escalatedTo = (member: string, factId: string) => (m: WireMessage): boolean =>
  m.topic === `household/${member}/fact/escalated` && (JSON.parse(m.payload) as Fact).causationid === factId

/** Non-empty claims on the wire for a fact. */
export const claimsFor = (wire: Inbox, factId: string): WireMessage[] =>
  wire.messages.filter((m) => m.topic.endsWith('/claim') && m.payload !== '' && (JSON.parse(m.payload) as { factId: string }).factId === factId)
