import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import type { Claim, Fact, ThingState } from '#contract'
import { connect, connectInbox, publishAck, type Inbox } from '../helpers/mqtt.ts'
import { startNatsCluster, type NatsCluster } from '../helpers/nats.ts'
import { doorFact, FRONT_DOOR, linked, publishDoor, startHouse, USERS, type House } from './houses.ts'

const MIRRORED = `sites/grandma/${FRONT_DOOR}`

describe('claims across houses: the house that owns the thing settles them', () => {
  let cluster: NatsCluster
  let grandma: House
  let family: House
  let device: MqttClient
  let mummy: MqttClient
  let neighbour: MqttClient
  let atGrandma: Inbox
  let atFamily: Inbox
  const watchers: MqttClient[] = []

  beforeAll(async () => {
    cluster = await startNatsCluster(USERS)
    grandma = await startHouse(cluster, 'grandma')
    family = await startHouse(cluster, 'family', { follow: 'grandma:home/+/front-door' })
    await Promise.all([linked(grandma), linked(family)])
    const m = await family.addUser({ username: 'mummy', role: 'member', member: 'mummy' })
    const n = await grandma.addUser({ username: 'neighbour', role: 'member', member: 'neighbour' })
    mummy = await connect(family.mqttUrl, { clientId: 'mummy-phone', protocolVersion: 5, ...m })
    neighbour = await connect(grandma.mqttUrl, { clientId: 'neighbour-phone', protocolVersion: 5, ...n })
    device = await connect(grandma.anonymousUrl, { clientId: 'grandma-door' })
    const g = await connectInbox(grandma.anonymousUrl, { clientId: 'grandma-watch' })
    const f = await connectInbox(family.anonymousUrl, { clientId: 'family-watch' })
    await g.client.subscribeAsync(`${FRONT_DOOR}/claim`, { qos: 1 })
    await f.client.subscribeAsync([`${MIRRORED}/claim`, `${MIRRORED}/state`], { qos: 1 })
    atGrandma = g.inbox
    atFamily = f.inbox
    watchers.push(g.client, f.client)
  }, 60_000)

  afterAll(async () => {
    await Promise.all([device, mummy, neighbour, ...watchers].map((c) => c?.endAsync()))
    await family?.stop()
    await grandma?.stop()
    await cluster?.close()
  })

  /** Publishes the fact at grandma's and waits until the family's broker holds its mirrored state. */
  async function open (fact: Fact): Promise<void> {
    await publishDoor(device, fact)
    await atFamily.wait((m) => m.topic === `${MIRRORED}/state` && (JSON.parse(m.payload) as ThingState).factId === fact.id, 1, 10_000)
  }

  const claimOf = (payload: string): Claim | null => payload === '' ? null : JSON.parse(payload) as Claim

  /** Mummy (family) and the neighbour (grandma's) claim `fact` at once; resolves with both answers and when the last came. */
  async function race (fact: Fact): Promise<{ mummy: { reasonCode: number, reasonString?: string }, neighbour: { reasonCode: number, reasonString?: string }, at: number }> {
    const at = new Date().toISOString()
    const [m, n] = await Promise.all([
      publishAck(mummy, `${MIRRORED}/claim`, JSON.stringify({ factId: fact.id, by: 'mummy', at }), { retain: true }),
      publishAck(neighbour, `${FRONT_DOOR}/claim`, JSON.stringify({ factId: fact.id, by: 'neighbour', at }), { retain: true })
    ])
    return { mummy: m, neighbour: n, at: Date.now() }
  }

  it('gives one winner when two people in two houses claim one fact at once, tells the loser why, and both houses show the winner within 1 s', async () => {
    const fact = doorFact(1)
    await open(fact)
    const r = await race(fact)
    const codes = [r.mummy.reasonCode, r.neighbour.reasonCode].sort()
    expect(codes).toStrictEqual([0, 0x83])
    const loser = r.mummy.reasonCode === 0 ? r.neighbour : r.mummy
    expect(loser.reasonString).toMatch(/^HF_CLAIMED: fact [0-9A-Z]{26} is already claimed by "(family\/mummy|neighbour)"$/)
    const winner = r.mummy.reasonCode === 0 ? { grandma: 'family/mummy', family: 'mummy' } : { grandma: 'neighbour', family: 'grandma/neighbour' }
    const [g] = await atGrandma.wait((m) => claimOf(m.payload)?.factId === fact.id, 1, 1000)
    const [f] = await atFamily.wait((m) => m.topic === `${MIRRORED}/claim` && claimOf(m.payload)?.factId === fact.id, 1, 1000)
    expect(Date.now() - r.at).toBeLessThanOrEqual(1000)
    expect(claimOf(g!.payload)?.by).toBe(winner.grandma)
    expect(claimOf(f!.payload)?.by).toBe(winner.family)
  })

  it('settles 100 races between the two houses with one winner each, and both houses agree on it', async () => {
    const outcomes = { mummy: 0, neighbour: 0 }
    for (let i = 0; i < 100; i++) {
      const fact = doorFact(1001 + i)
      await open(fact)
      const r = await race(fact)
      expect([r.mummy.reasonCode, r.neighbour.reasonCode].sort()).toStrictEqual([0, 0x83])
      const mummyWon = r.mummy.reasonCode === 0
      outcomes[mummyWon ? 'mummy' : 'neighbour']++
      const loser = mummyWon ? r.neighbour : r.mummy
      expect(loser.reasonString).toMatch(/^HF_CLAIMED: /)
      const [g] = await atGrandma.wait((m) => claimOf(m.payload)?.factId === fact.id, 1, 5000)
      const [f] = await atFamily.wait((m) => m.topic === `${MIRRORED}/claim` && claimOf(m.payload)?.factId === fact.id, 1, 5000)
      expect(claimOf(g!.payload)?.by).toBe(mummyWon ? 'family/mummy' : 'neighbour')
      expect(claimOf(f!.payload)?.by).toBe(mummyWon ? 'mummy' : 'grandma/neighbour')
    }
    expect(outcomes.mummy + outcomes.neighbour).toBe(100)
  }, 120_000)

  it('lets the holder clear her claim on grandma\'s thing in both houses, and nobody clear another\'s', async () => {
    const fact = doorFact(3001)
    await open(fact)
    const at = new Date().toISOString()
    expect(await publishAck(mummy, `${MIRRORED}/claim`, JSON.stringify({ factId: fact.id, by: 'mummy', at }), { retain: true })).toStrictEqual({ reasonCode: 0 })
    await atGrandma.wait((m) => claimOf(m.payload)?.factId === fact.id, 1, 5000)
    const cleared = atGrandma.messages.length
    expect(await publishAck(mummy, `${MIRRORED}/claim`, '', { retain: true })).toStrictEqual({ reasonCode: 0 })
    const [g] = await atGrandma.wait((m) => atGrandma.messages.indexOf(m) >= cleared && m.payload === '', 1, 5000)
    expect(g).toStrictEqual({ topic: `${FRONT_DOOR}/claim`, payload: '', qos: 1, retain: false })
    // The neighbour's claim is hers to clear: mummy is refused at her own house (0x87, HF_NOT_HOLDER).
    expect(await publishAck(neighbour, `${FRONT_DOOR}/claim`, JSON.stringify({ factId: fact.id, by: 'neighbour', at }), { retain: true })).toStrictEqual({ reasonCode: 0 })
    await atFamily.wait((m) => m.topic === `${MIRRORED}/claim` && claimOf(m.payload)?.by === 'grandma/neighbour' && claimOf(m.payload)?.factId === fact.id, 1, 5000)
    const refused = await publishAck(mummy, `${MIRRORED}/claim`, '', { retain: true })
    expect(refused.reasonCode).toBe(0x87)
    expect(refused.reasonString).toMatch(/^HF_NOT_HOLDER: only "grandma\/neighbour" \(who holds the claim\) or an admin may clear it$/)
  })

  it('refuses a claim on grandma\'s thing with HF_ESTATE_UNREACHABLE (0x80) while her house does not answer, and takes none on silence', async () => {
    const fact = doorFact(2001)
    await open(fact)
    // Grandma's estate stops answering; her house and the family's keep running.
    await grandma.estate.stop()
    const ack = await publishAck(mummy, `${MIRRORED}/claim`, JSON.stringify({ factId: fact.id, by: 'mummy', at: new Date().toISOString() }), { retain: true })
    expect(ack.reasonCode).toBe(0x80)
    expect(ack.reasonString).toMatch(/^HF_ESTATE_UNREACHABLE: "grandma" did not settle the claim within 2000 ms/)
    // Grandma's own house still settles its own claims alone.
    const own = await publishAck(neighbour, `${FRONT_DOOR}/claim`, JSON.stringify({ factId: fact.id, by: 'neighbour', at: new Date().toISOString() }), { retain: true })
    expect(own).toStrictEqual({ reasonCode: 0 })
  }, 30_000)
})
