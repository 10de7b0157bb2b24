import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startWorld, claimsFor, decidedBy, decisionOf, decisions, type World } from './world.ts'

const config = {
  members: [{ name: 'mummy' }, { name: 'daddy' }],
  // Their agents claim for them (`auto`): this suite is about catching up, not about asking.
  policies: { 'cup.empty': { auto: ['mummy', 'daddy'], escalation: [{ afterSeconds: 600 }] } },
  clearClaimAfterMs: 100
}

describe('a member who was away catches up from the session', () => {
  let w: World
  beforeEach(async () => { w = await startWorld() })
  afterEach(async () => { await w.stop() })

  it('skips a queued fact as resolved when the cup was refilled while he was away, and sends no claim and no notification', async () => {
    const house = await w.household(config)
    await house.start()
    // Daddy goes offline: his persistent session keeps collecting facts.
    await house.responder('daddy').stop()
    const cup = w.newCup()
    const empty = await cup.empty()
    const [claim] = await w.wire.wait((m) => m.topic === 'home/kitchen/lily-cup/claim' && m.payload !== '')
    expect({ ...claim!, payload: JSON.parse(claim!.payload) }).toStrictEqual({
      topic: 'home/kitchen/lily-cup/claim',
      payload: { factId: empty.id, by: 'mummy', at: expect.any(String) },
      qos: 1,
      retain: true
    })
    await cup.filled()
    // The claim is cleared once the state has moved on (by the broker, or by Mummy where it does not).
    const [cleared] = await w.wire.wait((m) => m.topic === 'home/kitchen/lily-cup/claim' && m.payload === '')
    expect(cleared).toStrictEqual({ topic: 'home/kitchen/lily-cup/claim', payload: '', qos: 1, retain: true })

    await house.responder('daddy').start()
    const [msg] = await w.wire.wait(decidedBy('daddy', empty.id))
    expect(msg!.qos).toBe(1)
    expect(msg!.retain).toBe(false)
    const fact = JSON.parse(msg!.payload)
    expect(fact).toMatchObject({ type: 'household.decided', subject: 'household/daddy', source: 'services/household/daddy', causationid: empty.id })
    expect(decisionOf(fact)).toStrictEqual({
      member: 'daddy',
      decision: 'skip',
      reason: 'resolved',
      detail: expect.stringContaining('"full"'),
      fact: { id: empty.id, type: 'cup.empty', subject: 'home/kitchen/lily-cup', seq: 1 }
    })
    expect(claimsFor(w.wire, empty.id).map((m) => JSON.parse(m.payload).by)).toStrictEqual(['mummy'])
    expect(w.wire.messages.filter((m) => m.topic.startsWith('household/daddy/fact/') && !m.topic.endsWith('/decided'))).toStrictEqual([])
    expect(w.wire.messages.filter((m) => m.topic.startsWith('homefacts/deadletter/'))).toStrictEqual([])
    expect(decisions(w.wire, 'daddy')).toHaveLength(1)
  })

  it('acts on a queued fact that is still open when he reconnects', async () => {
    const house = await w.household(config)
    await house.start()
    await house.responder('daddy').stop()
    // Mummy is busy, so nobody claims while Daddy is away.
    await w.presence('mummy', 'busy')
    const cup = w.newCup()
    const empty = await cup.empty()
    const [mum] = await w.wire.wait(decidedBy('mummy', empty.id))
    expect(decisionOf(JSON.parse(mum!.payload))).toMatchObject({ decision: 'skip', reason: 'busy' })

    await house.responder('daddy').start()
    const [dad] = await w.wire.wait(decidedBy('daddy', empty.id))
    expect(decisionOf(JSON.parse(dad!.payload))).toMatchObject({ decision: 'claim', reason: 'open' })
    const [claim] = await w.wire.wait((m) => m.topic === 'home/kitchen/lily-cup/claim')
    expect({ ...claim!, payload: JSON.parse(claim!.payload) }).toStrictEqual({
      topic: 'home/kitchen/lily-cup/claim',
      payload: { factId: empty.id, by: 'daddy', at: expect.any(String) },
      qos: 1,
      retain: true
    })
  })
})
