import { once } from 'node:events'
import type { MqttClient } from 'mqtt'
import { type Fact } from '#contract'
import { makeFact } from '#client'
import { startTestHub, type TestHub, type TestHubOptions } from '../helpers/hub.ts'
import type { NatsCluster, NatsUser } from '../helpers/nats.ts'
import type { Estate } from '../../estate/index.ts'

/** The NATS users of the test estate: the first one is what the cluster helper checks readiness with. */
export const USERS: readonly NatsUser[] = [
  { user: 'grandma', password: 'grandma-secret' },
  { user: 'family', password: 'family-secret' },
  { user: 'aunt', password: 'aunt-secret' }
]

export interface House extends TestHub {
  estate: Estate
}

/** A real hub in the estate: site `site` (NATS user of the same name), following `follow`. */
export async function startHouse (cluster: NatsCluster, site: string, opts: { follow?: string, user?: string, password?: string, dir?: string, claimTimeoutMs?: number, flags?: TestHubOptions['flags'], services?: TestHubOptions['services'], file?: TestHubOptions['file'] } = {}): Promise<House> {
  const user = opts.user ?? site
  const t = await startTestHub({
    anonymous: true,
    ...(opts.dir ? { dir: opts.dir } : {}),
    ...(opts.services ? { services: opts.services } : {}),
    ...(opts.file ? { file: opts.file } : {}),
    flags: {
      'estate.site': site,
      'estate.servers': cluster.servers,
      'estate.user': user,
      'estate.password': opts.password ?? USERS.find((u) => u.user === user)?.password ?? 'none',
      ...(opts.follow !== undefined ? { 'estate.follow': opts.follow } : {}),
      ...(opts.claimTimeoutMs !== undefined ? { 'estate.claimTimeoutMs': opts.claimTimeoutMs } : {}),
      ...opts.flags
    }
  })
  return { ...t, estate: t.hub.estate! }
}

/** Resolves once the house is linked to the estate (now or later). */
export async function linked (house: House): Promise<void> {
  if (house.estate.status === 'linked') return
  await once(house.estate, 'linked')
}

export const FRONT_DOOR = 'home/hall/front-door'

/** The front door's `n`th fact (odd: opened, even: closed), seq `n`. */
export function doorFact (n: number, subject = FRONT_DOOR): Fact {
  const type = n % 2 === 1 ? 'door.opened' : 'door.closed'
  return makeFact(type, { subject, source: 'devices/front-door', seq: n, data: {} })
}

/** Publishes a fact at QoS 1 and then the state it sets, retained, as the front door's device would. */
export async function publishDoor (client: MqttClient, fact: Fact): Promise<void> {
  const name = fact.type.split('.')[1]
  await client.publishAsync(`${fact.subject}/fact/${name}`, JSON.stringify(fact), { qos: 1 })
  await client.publishAsync(`${fact.subject}/state`, JSON.stringify({ value: name === 'opened' ? 'open' : 'closed', seq: fact.seq, since: fact.time, factId: fact.id }), { qos: 1, retain: true })
}

/** The ids of the parsed facts among messages, in arrival order. */
export const idsOf = (messages: readonly { payload: string }[]): string[] => messages.map((m) => (JSON.parse(m.payload) as Fact).id)
