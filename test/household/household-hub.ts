import type { MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import type { Fact } from '#contract'
import { householdService } from '../../services/household/index.ts'
import { phonesService } from '../../services/phones/index.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox, type WireMessage } from '../helpers/mqtt.ts'
import { TestCup } from './world.ts'

/** What an observer subscribes to, one connection per kind of topic (see docs/household.md). */
const OBSERVED = ['home/+/+/fact/+', 'home/+/+/state', 'home/+/+/claim', 'household/+/fact/+', 'household/+/presence', 'notify/+/fact/+', 'homefacts/deadletter/#']

/** A hub running the household service as `homefacts start` does, with members only from its users. */
export interface HouseholdHub {
  t: TestHub
  wire: Inbox
  cup: TestCup
  /** Adds a member login (`<name>-phone`, role member) and waits until the hub has applied it. */
  addMember: (name: string) => Promise<{ username: string, password: string }>
  /** Connects as a member's phone. */
  phone: (name: string) => Promise<MqttClient>
  stop: () => Promise<void>
}

export async function startHouseholdHub (opts: { file?: Record<string, unknown>, configFile?: string, log?: Logger, phones?: boolean } = {}): Promise<HouseholdHub> {
  const { phones, ...rest } = opts
  // With the phones: the web app, and the notifier on the offers and escalations.
  const t = await startTestHub({ services: phones ? [householdService, phonesService] : [householdService], ...rest })
  const adm = await t.addUser({ username: 'observer', role: 'admin' })
  const dev = await t.addUser({ username: 'cups', role: 'device', things: ['kitchen/+'] })
  const observers = await Promise.all(OBSERVED.map((_f, i) => connect(t.mqttUrl, { ...adm, clientId: `observer-${i}`, protocolVersion: 5 })))
  const wire = new Inbox(observers[0]!)
  for (const o of observers.slice(1)) o.on('message', (...args) => observers[0]!.emit('message', ...args))
  await Promise.all(observers.map((o, i) => o.subscribeAsync(OBSERVED[i]!, { qos: 1, rap: true, rh: 2 })))
  const device = await connect(t.mqttUrl, { ...dev, clientId: 'cups', protocolVersion: 5 })
  const clients: MqttClient[] = [...observers, device]
  const logins = new Map<string, { username: string, password: string }>()
  return {
    t,
    wire,
    cup: new TestCup(device),
    addMember: async (name) => {
      const creds = await t.addUser({ username: `${name}-phone`, role: 'member', member: name })
      logins.set(name, creds)
      await t.hub.household.check()
      return creds
    },
    phone: async (name) => {
      const c = await connect(t.mqttUrl, { ...logins.get(name)!, clientId: `${name}-phone-${clients.length}`, protocolVersion: 5 })
      clients.push(c)
      return c
    },
    stop: async () => {
      await Promise.all(clients.map((c) => c.endAsync()))
      await t.stop()
    }
  }
}

const parsed = (m: WireMessage): Fact => JSON.parse(m.payload) as Fact

/** A predicate: a fact on `notify/<member>/fact/<name>` caused by (or about) `factId`. */
export const notified = (member: string, name: string, factId: string) => (m: WireMessage): boolean =>
  m.topic === `notify/${member}/fact/${name}` && (parsed(m).data as { factId: string }).factId === factId

/** The facts on `notify/<member>/fact/<name>` about `factId`. */
export const notices = (wire: Inbox, member: string, name: string, factId: string): Fact[] =>
  wire.messages.filter(notified(member, name, factId)).map(parsed)
