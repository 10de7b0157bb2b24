import { afterEach, describe, expect, it } from 'vitest'
import { type Fact, type HouseholdEscalated } from '#contract'
import { makeFact } from '#client'
import { startWorld, type TestCup, type World } from '../household/world.ts'
import { PhonesConfig, phonesService } from '../../services/phones/index.ts'
import { HouseholdConfig } from '../../services/household/index.ts'
import { NtfyReceiver } from '../helpers/receivers/ntfy-receiver.ts'
import type { WireMessage } from '../helpers/mqtt.ts'

/**
 * The phones notifier on a real hub, with the real household responders, against a local
 * server that speaks ntfy's publish API: what a member's phone shows, and the
 * delivery facts on the wire.
 */

let w: World | null = null
let ntfy: NtfyReceiver | null = null
afterEach(async () => {
  await w?.stop()
  await ntfy?.close()
  w = null
  ntfy = null
})

const fact = (m: WireMessage): Fact => JSON.parse(m.payload) as Fact
const onTopic = (topic: string, about?: string) => (m: WireMessage): boolean => m.topic === topic && (about === undefined || (fact(m).data as { about: { id: string } }).about.id === about)

interface Setup {
  presence?: Record<string, string>
  priority?: 'normal' | 'high'
  retryAttempts?: number
  /** When the policy's one escalation step is due (default 0.3 s). */
  afterSeconds?: number
}

/**
 * A hub with mummy and daddy, each on their own ntfy topic, and one escalation step after
 * 0.3 s. Nobody's role may claim, so every cup.empty escalates. The phones service starts once
 * the household is up.
 */
async function setup (opts: Setup = {}): Promise<{ w: World, ntfy: NtfyReceiver, cup: TestCup, restartPhones: () => Promise<void> }> {
  ntfy = new NtfyReceiver()
  await ntfy.start()
  const household = {
    members: [
      { name: 'mummy', phones: [{ kind: 'ntfy', address: `${ntfy.url}/mummy-phone` }] },
      { name: 'daddy', phones: [{ kind: 'ntfy', address: `${ntfy.url}/daddy-phone` }] }
    ],
    policies: { 'cup.empty': { mayClaim: ['nobody'], escalation: [{ afterSeconds: opts.afterSeconds ?? 0.3, notify: {}, priority: opts.priority ?? 'high' }] } }
  }
  w = await startWorld()
  for (const [member, value] of Object.entries(opts.presence ?? {})) await w.presence(member, value)
  const house = await w.household(household)
  await house.start()
  const config = { ...w.t.config, household, phones: PhonesConfig.parse({ retryAttempts: opts.retryAttempts ?? 3, retryFirstMs: 50, evidenceTimeoutMs: 300 }) }
  const create = () => phonesService.create({ config, household: { current: HouseholdConfig.parse(household) }, mqttUrl: w!.t.mqttUrl, credentials: (name, account) => w!.t.hub.credentials(name, account), log: w!.t.hub.log })
  let phones = create()
  await phones.start()
  const stop = w.stop
  w.stop = async () => { await phones.stop(); await stop() }
  const restartPhones = async (): Promise<void> => {
    await phones.stop()
    phones = create()
    await phones.start()
  }
  return { w, ntfy, cup: w.newCup(), restartPhones }
}

describe('the phones notifier', () => {
  it('tells every member of an escalation on ntfy, with the fact id as the sequence id, and publishes notification.sent', async () => {
    const { w, ntfy, cup } = await setup()
    const empty = await cup.empty()
    const [m1] = await w.wire.wait(onTopic('notify/mummy/fact/sent', empty.id), 1, 10_000)
    const phone = await ntfy.next((r) => r.topic === 'mummy-phone' && r.sequenceId === empty.id)
    expect(phone).toMatchObject({ method: 'POST', topic: 'mummy-phone', sequenceId: empty.id, title: 'cup empty: kitchen/lily-cup', priority: 4, click: `/#/trace/${empty.id}` })
    const sent = fact(m1!)
    expect(sent).toMatchObject({ type: 'notification.sent', subject: 'notify/mummy', source: 'services/phones' })
    expect(sent.data).toStrictEqual({
      recipient: 'mummy', channel: 'ntfy', address: `${ntfy.url}/mummy-phone`, message: 'nobody claimed cup.empty on home/kitchen/lily-cup within 0.3 s',
      about: { id: empty.id, type: 'cup.empty', subject: 'home/kitchen/lily-cup' }
    })
    const escalation = w.wire.messages.filter((m) => m.topic.endsWith('/fact/escalated')).map(fact).find((f) => f.type === 'household.escalated' && f.id === sent.causationid)
    expect(escalation).toMatchObject({ subject: 'household/mummy', data: { factId: empty.id } })
    await w.wire.wait(onTopic('notify/daddy/fact/sent', empty.id), 1, 10_000)
  })

  it('withdraws on every channel once the fact resolves: a DELETE by sequence id, and notification.withdrawn', async () => {
    const { w, ntfy, cup } = await setup()
    const empty = await cup.empty()
    await w.wire.wait((m) => onTopic('notify/mummy/fact/sent', empty.id)(m) || onTopic('notify/daddy/fact/sent', empty.id)(m), 2, 10_000)
    await cup.filled()
    const withdrawn = await w.wire.wait((m) => onTopic('notify/mummy/fact/withdrawn', empty.id)(m) || onTopic('notify/daddy/fact/withdrawn', empty.id)(m), 2, 10_000)
    expect(withdrawn.map((m) => (fact(m).data as { reason: string }).reason)).toStrictEqual(['resolved', 'resolved'])
    expect(ntfy.showing('mummy-phone')).toStrictEqual([])
    expect(ntfy.showing('daddy-phone')).toStrictEqual([])
    expect(ntfy.requests.filter((r) => r.method === 'DELETE').map((r) => [r.topic, r.sequenceId]).sort()).toStrictEqual([['daddy-phone', empty.id], ['mummy-phone', empty.id]])
    expect(ntfy.errors).toStrictEqual([])
  })

  it('withdraws when someone claims, records the claim as household.claimed, and escalates no further', async () => {
    const { w, ntfy, cup } = await setup()
    const empty = await cup.empty()
    await w.wire.wait(onTopic('notify/mummy/fact/sent', empty.id), 1, 10_000)
    await w.phone.publishAsync('home/kitchen/lily-cup/claim', JSON.stringify({ factId: empty.id, by: 'daddy', at: new Date().toISOString() }), { qos: 1, retain: true })
    const [claimed] = await w.wire.wait('household/daddy/fact/claimed', 1, 10_000)
    expect(fact(claimed!)).toMatchObject({ type: 'household.claimed', causationid: empty.id, data: { factId: empty.id, subject: 'home/kitchen/lily-cup', by: 'daddy' } })
    const [withdrawn] = await w.wire.wait(onTopic('notify/mummy/fact/withdrawn', empty.id), 1, 10_000)
    expect(fact(withdrawn!).data).toMatchObject({ reason: 'claimed', detail: 'claimed by daddy' })
    expect(ntfy.showing('mummy-phone')).toStrictEqual([])
  })

  it('never sends a notification about a fact that is already resolved', async () => {
    // The responders' own step is an hour away: the escalations here are the test's.
    const { w, ntfy, cup } = await setup({ afterSeconds: 3600 })
    const first = await cup.empty()
    await cup.filled()
    const second = await cup.empty()
    const escalate = async (f: Fact) => {
      const e = makeFact('household.escalated', {
        subject: 'household/mummy', source: 'test/escalator', seq: f.seq, causationid: f.id,
        data: { member: 'mummy', factId: f.id, factType: 'cup.empty', factSeq: f.seq, subject: cup.subject, step: 1, priority: 'high', due: new Date().toISOString(), detail: 'nobody claimed it' }
      })
      await w.phone.publishAsync('household/mummy/fact/escalated', JSON.stringify(e), { qos: 1 })
    }
    // The stale one first, then one for the open fact as a sentinel on the same session.
    await escalate(first)
    await escalate(second)
    await w.wire.wait(onTopic('notify/mummy/fact/sent', second.id), 1, 10_000)
    await ntfy.next((r) => r.sequenceId === second.id)
    expect(ntfy.requests.filter((r) => r.sequenceId === first.id)).toStrictEqual([])
    expect(w.wire.messages.filter((m) => m.topic.startsWith('notify/') && (fact(m).data as { about: { id: string } }).about.id === first.id)).toStrictEqual([])
  })

  it('keeps an escalation whose state has not come across a restart, and notifies once when the state arrives', async () => {
    const { w, ntfy, cup, restartPhones } = await setup({ afterSeconds: 3600 })
    const escalate = async (f: Fact) => {
      const e = makeFact('household.escalated', {
        subject: 'household/mummy', source: 'test/escalator', seq: f.seq, causationid: f.id,
        data: { member: 'mummy', factId: f.id, factType: 'cup.empty', factSeq: f.seq, subject: f.subject, step: 1, priority: 'high', due: new Date().toISOString(), detail: 'nobody claimed it' }
      })
      await w.phone.publishAsync('household/mummy/fact/escalated', JSON.stringify(e), { qos: 1 })
    }
    // The escalation is about a fact whose state the broker has not got yet: silence, not absence.
    const late = w.newCup('late-cup')
    const lateEmpty = makeFact('cup.empty', { subject: late.subject, source: 'devices/kitchen-late-cup', seq: 1, data: { level: 0.02 } })
    await escalate(lateEmpty)
    // A sentinel behind it on the same session: once it is sent, the first one is acknowledged and kept.
    const open = await cup.empty()
    await escalate(open)
    await w.wire.wait(onTopic('notify/mummy/fact/sent', open.id), 1, 10_000)
    expect(ntfy.requests.filter((r) => r.sequenceId === lateEmpty.id)).toStrictEqual([])
    await restartPhones()
    await w.device.publishAsync('home/kitchen/late-cup/fact/empty', JSON.stringify(lateEmpty), { qos: 1 })
    await w.device.publishAsync('home/kitchen/late-cup/state', JSON.stringify({ value: 'empty', seq: 1, since: lateEmpty.time, factId: lateEmpty.id }), { qos: 1, retain: true })
    await w.wire.wait(onTopic('notify/mummy/fact/sent', lateEmpty.id), 1, 10_000)
    await ntfy.next((r) => r.sequenceId === lateEmpty.id)
    // A sentinel after the restart: the late one was sent once, not again by the restarted session.
    const after = await w.newCup('after-cup').empty()
    await escalate(after)
    await w.wire.wait(onTopic('notify/mummy/fact/sent', after.id), 1, 10_000)
    expect(w.wire.messages.filter(onTopic('notify/mummy/fact/sent', lateEmpty.id))).toHaveLength(1)
    expect(ntfy.requests.filter((r) => r.sequenceId === lateEmpty.id).map((r) => r.topic)).toStrictEqual(['mummy-phone'])
  })

  it('does not wake a busy member for a normal fact, but does for a high one', async () => {
    const { w, ntfy, cup } = await setup({ presence: { mummy: 'busy', daddy: 'home' }, priority: 'normal' })
    const empty = await cup.empty()
    await w.wire.wait(onTopic('notify/daddy/fact/sent', empty.id), 1, 10_000)
    const [normal] = await w.wire.wait((m) => m.topic === 'household/mummy/fact/escalated', 1, 10_000)
    // A high escalation queued after the normal one on the notifier's session: once it is sent,
    // the normal one before it has been decided.
    const high = makeFact('household.escalated', { subject: 'household/mummy', source: 'test/escalator', seq: 1, causationid: empty.id, data: { ...(fact(normal!).data as HouseholdEscalated.HouseholdEscalated), step: 2, priority: 'high' } })
    await w.phone.publishAsync('household/mummy/fact/escalated', JSON.stringify(high), { qos: 1 })
    const [sent] = await w.wire.wait(onTopic('notify/mummy/fact/sent', empty.id), 1, 10_000)
    expect(fact(sent!).causationid).toBe(high.id)
    expect(w.wire.messages.filter(onTopic('notify/mummy/fact/sent', empty.id)).map((m) => fact(m).causationid)).toStrictEqual([high.id])
    expect(ntfy.requests.filter((r) => r.topic === 'mummy-phone').length).toBe(1)
  })

  it('publishes notification.failed after its retries when a channel keeps failing', async () => {
    const { w, ntfy, cup } = await setup({ retryAttempts: 2 })
    ntfy.failNext(1000)
    const empty = await cup.empty()
    const [failed] = await w.wire.wait(onTopic('notify/mummy/fact/failed', empty.id), 1, 10_000)
    expect(fact(failed!).data).toMatchObject({ recipient: 'mummy', channel: 'ntfy', attempts: 2, about: { id: empty.id } })
    expect((fact(failed!).data as { reason: string }).reason).toMatch(/500/)
  })
})
