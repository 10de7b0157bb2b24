import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { stateTopic, thingFactTopic, thingSubject, type Fact, type ThingState } from '#contract'
import { makeFact } from '#client'
import { connect } from '../helpers/mqtt.ts'
import { startWorld, claimsFor, decisionOf, decisions, type World } from './world.ts'

const CUPS = 100
const PER_CUP = 10

/**
 * Every cup empties PER_CUP times and is refilled after each but the last, so of its queued
 * `cup.empty` facts all but the last are resolved. Published in order on one connection: the
 * broker keeps each cup's facts and states in that order.
 */
async function emptyAndRefill (w: World): Promise<{ resolved: Set<string>, open: Set<string> }> {
  const resolved = new Set<string>()
  const open = new Set<string>()
  const sent: Promise<unknown>[] = []
  const emit = (thing: string, type: 'cup.empty' | 'cup.filled', seq: number): Fact => {
    const fact = makeFact(type, { subject: thingSubject('kitchen', thing), source: `devices/kitchen-${thing}`, seq, data: { level: type === 'cup.empty' ? 0.02 : 0.95 } })
    const state: ThingState = { value: type === 'cup.empty' ? 'empty' : 'full', seq, since: fact.time, factId: fact.id }
    sent.push(w.device.publishAsync(thingFactTopic('kitchen', thing, type === 'cup.empty' ? 'empty' : 'filled'), JSON.stringify(fact), { qos: 1 }))
    sent.push(w.device.publishAsync(stateTopic('kitchen', thing), JSON.stringify(state), { qos: 1, retain: true }))
    return fact
  }
  for (let c = 0; c < CUPS; c++) {
    let seq = 0
    for (let k = 0; k < PER_CUP; k++) {
      const empty = emit(`cup-${c}`, 'cup.empty', ++seq)
      if (k === PER_CUP - 1) open.add(empty.id)
      else {
        resolved.add(empty.id)
        emit(`cup-${c}`, 'cup.filled', ++seq)
      }
    }
  }
  await Promise.all(sent)
  return { resolved, open }
}

describe('a responder back after 1,000 queued facts on 100 cups', () => {
  let w: World
  beforeEach(async () => { w = await startWorld() })
  afterEach(async () => { await w.stop() })

  it('decides every one of them from the mirror: the 900 refilled ones skipped as resolved, the 100 open ones claimed', async () => {
    const house = await w.household({ members: [{ name: 'daddy' }], policies: { 'cup.empty': { auto: ['daddy'] } } })
    await house.start()
    await house.responder('daddy').stop()
    const { resolved, open } = await emptyAndRefill(w)

    // Counted on a connection of its own, so the count does not scan the whole wire each time.
    const counter = await connect(w.t.mqttUrl, { ...await w.t.addUser({ username: 'counter', role: 'admin' }), clientId: 'counter', protocolVersion: 5 })
    await counter.subscribeAsync('household/daddy/fact/decided', { qos: 1 })
    const all = new Promise<void>((resolve) => {
      let n = 0
      counter.on('message', () => { if (++n === resolved.size + open.size) resolve() })
    })
    // No SUBSCRIBE per fact: the mirror's one, the dead letters' and the session's.
    const subscribes: string[][] = []
    w.t.hub.broker.aedes.on('subscribe', (subs, client) => { if (client?.id.startsWith('household-daddy')) subscribes.push(subs.map((x) => x.topic)) })
    const started = performance.now()
    await house.responder('daddy').start()
    await all
    const elapsedMs = performance.now() - started
    await counter.endAsync()
    process.stderr.write(`catch-up: ${resolved.size + open.size} facts decided in ${elapsedMs.toFixed(0)} ms\n`)
    expect(subscribes).toStrictEqual([
      ['home/+/+/state', 'home/+/+/claim', 'sites/+/home/+/+/state', 'sites/+/home/+/+/claim', 'household/daddy/presence'],
      ['homefacts/deadletter/household-daddy-out'],
      ['home/+/+/fact/empty', 'sites/+/home/+/+/fact/empty']
    ])
    // The bench measures it alone (`npm run bench -- --only catch-up`); here the hub, six observers
    // and the test share one process, so this only guards against a regression of another order.
    expect(elapsedMs).toBeLessThan(20_000)

    await w.wire.wait((m) => m.topic === 'household/daddy/fact/decided', resolved.size + open.size, 10_000)
    const byFact = new Map(decisions(w.wire, 'daddy').map((f) => [f.causationid!, decisionOf(f)]))
    expect(byFact.size).toBe(1000)
    for (const id of resolved) expect([id, byFact.get(id)?.decision, byFact.get(id)?.reason]).toStrictEqual([id, 'skip', 'resolved'])
    for (const id of open) expect([id, byFact.get(id)?.decision, byFact.get(id)?.reason]).toStrictEqual([id, 'claim', 'open'])
    await w.wire.wait((m) => m.topic.endsWith('/claim') && m.payload !== '', open.size, 10_000)
    for (const id of open) expect(claimsFor(w.wire, id).map((m) => JSON.parse(m.payload).by)).toStrictEqual(['daddy'])
    for (const id of resolved) expect(claimsFor(w.wire, id)).toStrictEqual([])
    expect(w.wire.messages.filter((m) => m.topic.startsWith('homefacts/deadletter/'))).toStrictEqual([])
  }, 60_000)
})
