import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Fact } from '#contract'
import { startDelayProxy, type DelayProxy } from '../helpers/delay-proxy.ts'
import { startWorld, claimsFor, decidedBy, decisionOf, decisions, type World } from './world.ts'

const DELAY_MS = 1000

describe('a responder whose retained messages arrive 1 s after SUBACK', () => {
  let w: World
  let proxy: DelayProxy
  beforeEach(async () => {
    w = await startWorld()
    proxy = await startDelayProxy(w.t.mqttUrl, DELAY_MS)
  })
  afterEach(async () => {
    await w.stop()
    await proxy.stop()
  })

  /** Daddy, behind the slow proxy, away while the cup empties (and maybe is refilled). */
  async function daddyAway (evidenceTimeoutMs: number) {
    const house = await w.household({ members: [{ name: 'daddy' }], policies: { 'cup.empty': { auto: ['daddy'] } }, evidenceTimeoutMs }, { mqttUrl: proxy.url })
    await house.start()
    await house.responder('daddy').stop()
    return house
  }

  const verdicts = (factId: string): string[][] => decisions(w.wire, 'daddy', factId).map((f) => [decisionOf(f).decision, decisionOf(f).reason])

  it('waits for the state and skips a fact resolved while it was away, never claiming it', async () => {
    const house = await daddyAway(3000)
    const cup = w.newCup()
    const empty = await cup.empty()
    await cup.filled()
    const started = Date.now()
    await house.responder('daddy').start()
    const [msg] = await w.wire.wait(decidedBy('daddy', empty.id), 1, 8000)
    const fact = JSON.parse(msg!.payload) as Fact
    expect(decisionOf(fact)).toStrictEqual({
      member: 'daddy',
      decision: 'skip',
      reason: 'resolved',
      detail: 'already resolved: home/kitchen/lily-cup is "full" since seq 2 (this fact is seq 1)',
      fact: { id: empty.id, type: 'cup.empty', subject: 'home/kitchen/lily-cup', seq: 1 }
    })
    // It decided only once the held-back state came, not on the silence before it.
    expect(Date.parse(fact.time)).toBeGreaterThanOrEqual(started + DELAY_MS)
    expect(proxy.delayed).toBeGreaterThan(0)
    expect(claimsFor(w.wire, empty.id)).toStrictEqual([])
    expect(verdicts(empty.id)).toStrictEqual([['skip', 'resolved']])
  })

  it('defers when the state takes longer than its bound, then skips the fact as resolved when it arrives', async () => {
    const house = await daddyAway(200)
    const cup = w.newCup()
    const empty = await cup.empty()
    await cup.filled()
    await house.responder('daddy').start()
    await w.wire.wait(decidedBy('daddy', empty.id), 2, 8000)
    expect(verdicts(empty.id)).toStrictEqual([['deferred', 'no-state'], ['skip', 'resolved']])
    expect(decisionOf(decisions(w.wire, 'daddy', empty.id)[0]!).detail).toBe('no state of home/kitchen/lily-cup yet within 200 ms: not claiming; I will decide when it arrives')
    expect(claimsFor(w.wire, empty.id)).toStrictEqual([])
  })

  it('claims a fact that is still open once its state says so', async () => {
    const house = await daddyAway(3000)
    const empty = await w.newCup().empty()
    const started = Date.now()
    await house.responder('daddy').start()
    const [msg] = await w.wire.wait(decidedBy('daddy', empty.id), 1, 8000)
    expect(decisionOf(JSON.parse(msg!.payload) as Fact)).toMatchObject({ decision: 'claim', reason: 'open' })
    expect(Date.parse((JSON.parse(msg!.payload) as Fact).time)).toBeGreaterThanOrEqual(started + DELAY_MS)
    const [claim] = await w.wire.wait((m) => claimsFor(w.wire, empty.id).includes(m))
    expect({ ...claim!, payload: JSON.parse(claim!.payload) }).toStrictEqual({
      topic: 'home/kitchen/lily-cup/claim',
      payload: { factId: empty.id, by: 'daddy', at: expect.any(String) },
      qos: 1,
      retain: true
    })
  })
})
