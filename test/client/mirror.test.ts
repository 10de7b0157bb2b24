import type { MqttClient } from 'mqtt'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Codes, type ThingState } from '#contract'
import { Mirror, type MirrorChange } from '#client'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { startDelayProxy } from '../helpers/delay-proxy.ts'
import { connect } from '../helpers/mqtt.ts'
import { cupEmpty, cupFilled } from '../helpers/facts.ts'

const SUBJECT = 'home/kitchen/lily-cup'
const stateOf = (f: { id: string, seq: number, time: string }, value: string): ThingState => ({ value, seq: f.seq, since: f.time, factId: f.id })

describe('the mirror, against a real hub', () => {
  let t: TestHub
  let writer: MqttClient
  const clients: MqttClient[] = []
  beforeEach(async () => {
    t = await startTestHub()
    writer = await connect(t.mqttUrl, { ...await t.addUser({ username: 'writer', role: 'admin' }), clientId: 'writer', protocolVersion: 5 })
    await t.addUser({ username: 'mirror', role: 'responder', member: 'mummy', password: 'mirror-pw' })
  })
  afterEach(async () => {
    await Promise.all([writer, ...clients.splice(0)].map((c) => c.endAsync()))
    await t.stop()
  })

  async function mirrorOn (url = t.mqttUrl, onUnreadable?: (c: MirrorChange) => void): Promise<{ mirror: Mirror, changes: MirrorChange[] }> {
    const client = await connect(url, { username: 'mirror', password: 'mirror-pw', clientId: `mirror-${clients.length}`, protocolVersion: 5 })
    clients.push(client)
    const mirror = new Mirror({ client, ...(onUnreadable ? { onUnreadable } : {}) })
    const changes: MirrorChange[] = []
    mirror.onChange((c) => changes.push(c))
    await mirror.start()
    return { mirror, changes }
  }

  const retain = (topic: string, payload: string): Promise<unknown> => writer.publishAsync(topic, payload, { qos: 1, retain: true })

  it('takes the retained state as evidence as soon as it arrives, and follows it live', async () => {
    const empty = cupEmpty(1)
    await retain(`${SUBJECT}/state`, JSON.stringify(stateOf(empty, 'empty')))
    const { mirror, changes } = await mirrorOn()
    expect(await mirror.waitForEvidence(empty, { timeoutMs: 5000 })).toStrictEqual({ verdict: 'open', state: stateOf(empty, 'empty') })
    const filled = cupFilled(2)
    await retain(`${SUBJECT}/state`, JSON.stringify(stateOf(filled, 'full')))
    const resolved = await mirror.waitFor(() => mirror.evidence(empty).verdict === 'resolved' ? true : undefined, { timeoutMs: 5000 })
    expect(resolved).toBe(true)
    expect(changes).toStrictEqual([
      { kind: 'state', topic: `${SUBJECT}/state`, subject: SUBJECT, seen: { status: 'value', value: stateOf(empty, 'empty'), replayed: true } },
      { kind: 'state', topic: `${SUBJECT}/state`, subject: SUBJECT, seen: { status: 'value', value: stateOf(filled, 'full'), replayed: false } }
    ])
  })

  it('never reads silence as "no state": with nothing retained it reports unknown once the bound passes', async () => {
    const { mirror } = await mirrorOn()
    const t0 = Date.now()
    expect(await mirror.waitForEvidence(cupEmpty(1), { timeoutMs: 300 })).toStrictEqual({ verdict: 'unknown', reason: 'no-state', state: null })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300)
    expect(mirror.state(SUBJECT)).toBeUndefined()
    expect(mirror.presence('mummy')).toBeUndefined()
  })

  it('records a malformed retained state as unreadable, not as none', async () => {
    // The hub refuses a malformed state from any client; one kept from before a contract change
    // is still replayed. Planted on the broker directly, the way such a value would be there.
    await new Promise<void>((resolve, reject) => t.hub.broker.aedes.publish({ cmd: 'publish', topic: 'home/kitchen/old-cup/state', payload: Buffer.from('{"value":'), qos: 1, retain: true, dup: false }, (err) => err ? reject(err) : resolve()))
    const unreadable: MirrorChange[] = []
    const { mirror } = await mirrorOn(t.mqttUrl, (c) => unreadable.push(c))
    const fact = cupEmpty(1, 'kitchen', 'old-cup')
    const ev = await mirror.waitFor(() => mirror.state('home/kitchen/old-cup'), { timeoutMs: 5000 })
    expect(ev).toStrictEqual({ status: 'unreadable', replayed: true, error: { code: Codes.NOT_JSON, message: expect.any(String), issues: [] }, payload: '{"value":' })
    expect(mirror.evidence(fact)).toStrictEqual({ verdict: 'unknown', reason: 'unreadable-state', state: null })
    expect(unreadable.map((c) => [c.kind, c.topic])).toStrictEqual([['state', 'home/kitchen/old-cup/state']])
  })

  it('mirrors a claim, and an empty retained claim as cleared: positive evidence of no claim', async () => {
    const empty = cupEmpty(1)
    const claim = { factId: empty.id, by: 'mummy', at: empty.time }
    // The hub takes a claim only for the fact the thing's state names.
    await retain(`${SUBJECT}/state`, JSON.stringify(stateOf(empty, 'empty')))
    await retain(`${SUBJECT}/claim`, JSON.stringify(claim))
    const { mirror, changes } = await mirrorOn()
    await mirror.waitFor(() => mirror.claim(SUBJECT), { timeoutMs: 5000 })
    expect(mirror.holder(empty)).toStrictEqual({ status: 'held', by: 'mummy', claim })
    await retain(`${SUBJECT}/claim`, '')
    await mirror.waitFor(() => mirror.claim(SUBJECT)?.status === 'cleared' ? true : undefined, { timeoutMs: 5000 })
    expect(mirror.holder(empty)).toStrictEqual({ status: 'free', reason: 'cleared' })
    expect(changes.filter((c) => c.kind === 'claim').map((c) => [c.kind, c.topic, c.seen])).toStrictEqual([
      ['claim', `${SUBJECT}/claim`, { status: 'value', value: claim, replayed: true }],
      ['claim', `${SUBJECT}/claim`, { status: 'cleared', replayed: false }]
    ])
  })

  it('mirrors presence', async () => {
    await retain('household/mummy/presence', 'busy')
    const { mirror } = await mirrorOn()
    expect(await mirror.waitFor(() => mirror.presence('mummy'), { timeoutMs: 5000 })).toStrictEqual({ status: 'value', value: 'busy', replayed: true })
  })

  it('ignores a replayed state that arrives after a live one: a slow replay cannot roll a topic back', async () => {
    const proxy = await startDelayProxy(t.mqttUrl, 1000)
    try {
      const empty = cupEmpty(1)
      await retain(`${SUBJECT}/state`, JSON.stringify(stateOf(empty, 'empty')))
      const { mirror, changes } = await mirrorOn(proxy.url)
      const filled = cupFilled(2)
      await retain(`${SUBJECT}/state`, JSON.stringify(stateOf(filled, 'full')))
      await mirror.waitFor(() => mirror.state(SUBJECT), { timeoutMs: 5000 })
      // The replay (seq 1) is passed on a second later, behind the live seq 2; a live presence
      // sent after it arrives after it on the same connection.
      await proxy.released(1)
      await retain('household/mummy/presence', 'home')
      await mirror.waitFor(() => mirror.presence('mummy'), { timeoutMs: 5000 })
      expect(mirror.state(SUBJECT)).toStrictEqual({ status: 'value', value: stateOf(filled, 'full'), replayed: false })
      expect(changes.map((c) => [c.kind, c.seen.replayed])).toStrictEqual([['state', false], ['presence', false]])
    } finally {
      await proxy.stop()
    }
  })
})
