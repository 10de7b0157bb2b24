import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { thingSubject } from '#contract'
import { makeFact } from '#client'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox, publishAck } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'
import { rng } from './packets.ts'

// Fuzz facts: hostile facts on a valid topic, from a seeded generator. Each is refused
// with a reason (a PUBACK reason code on MQTT 5, a letter on homefacts/deadletter/<clientId> on
// 3.1.1), none reaches a subscriber of the fact's topic, and the hub keeps serving.
// Replay a run with HOMEFACTS_FUZZ_SEED=<seed>.

const seed = Number(process.env.HOMEFACTS_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32))
console.log(`fuzz-facts seed: ${seed} (replay with HOMEFACTS_FUZZ_SEED=${seed})`)
const r = rng(seed)

const TOPIC = 'home/kitchen/lily-cup/fact/empty'
const DAY = 86_400_000

/** A valid fact's JSON with `data` (or the whole envelope) replaced by raw JSON text. */
const withData = (data: string): string => JSON.stringify(cupEmpty(1 + r.int(1000))).replace(/"data":\{[^}]*\}/, `"data":${data}`)
const withTime = (time: string): string => JSON.stringify({ ...cupEmpty(1 + r.int(1000)), time })
const nested = (depth: number, open: string, close: string, inner: string): string => open.repeat(depth) + inner + close.repeat(depth)

/** Kinds of hostile fact, each with the code the broker refuses it with. */
const KINDS: { kind: string, code: string, make: () => string }[] = [
  { kind: 'level out of range', code: 'HF_DATA', make: () => withData(`{"level":${r.pick([-1, 1.5, 1e308, -0.0001])}}`) },
  { kind: 'level of the wrong type', code: 'HF_DATA', make: () => withData(`{"level":${r.pick(['"0.1"', 'null', 'true', '[0.1]', '{}'])}}`) },
  { kind: 'data not an object', code: 'HF_DATA', make: () => withData(r.pick(['null', '0', '"empty"', '[]'])) },
  { kind: 'an unknown key in data', code: 'HF_DATA', make: () => withData(`{"level":0.1,"${r.pick(['extra', 'Level', ''])}":1}`) },
  { kind: '__proto__ in data', code: 'HF_DATA', make: () => withData('{"level":0.1,"__proto__":{"polluted":true}}') },
  { kind: 'constructor in data', code: 'HF_DATA', make: () => withData('{"level":0.1,"constructor":{"prototype":{"polluted":true}}}') },
  { kind: '__proto__ in the envelope', code: 'HF_ENVELOPE', make: () => JSON.stringify(cupEmpty(1)).replace(/^\{/, '{"__proto__":{"polluted":true},') },
  { kind: 'constructor in the envelope', code: 'HF_ENVELOPE', make: () => JSON.stringify(cupEmpty(1)).replace(/^\{/, '{"constructor":{"prototype":{"polluted":true}},') },
  { kind: '10,000 nested arrays in data', code: 'HF_DATA', make: () => withData(`{"level":0.1,"raw":${nested(10_000, '[', ']', '0')}}`) },
  { kind: '10,000 nested objects in data', code: 'HF_DATA', make: () => withData(`{"level":0.1,"raw":${nested(10_000, '{"a":', '}', '0')}}`) },
  { kind: 'a 100,000-element array in data', code: 'HF_DATA', make: () => withData(`{"level":0.1,"raw":[${Array.from({ length: 100_000 }, () => r.int(10)).join(',')}]}`) },
  { kind: 'a time far in the future', code: 'HF_TIME', make: () => withTime(r.pick(['9999-12-31T23:59:59.999Z', new Date(Date.now() + 365 * DAY).toISOString(), new Date(Date.now() + 2 * DAY).toISOString()])) },
  { kind: 'a time far in the past', code: 'HF_TIME', make: () => withTime(r.pick(['0001-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z', '1999-12-31T23:59:59.999Z'])) }
]
const ROUNDS = 8

describe('hostile facts on a valid topic', () => {
  let t: TestHub
  let watcher: MqttClient
  let facts: Inbox
  let v4: MqttClient
  let v5: MqttClient
  beforeAll(async () => {
    t = await startTestHub()
    const device = { username: 'lily-cup', role: 'device' as const, things: ['kitchen/lily-cup'] }
    const creds = await t.addUser(device)
    const ops = await t.addUser({ username: 'ops', role: 'admin' })
    watcher = await connect(t.mqttUrl, { ...ops, clientId: 'watcher' })
    facts = new Inbox(watcher)
    await watcher.subscribeAsync([TOPIC, 'homefacts/deadletter/#'], { qos: 1 })
    v4 = await connect(t.mqttUrl, { ...creds, clientId: 'lily-cup-v4', protocolVersion: 4 })
    v5 = await connect(t.mqttUrl, { ...creds, clientId: 'lily-cup-v5', protocolVersion: 5 })
  })
  afterAll(async () => {
    await Promise.all([watcher?.endAsync(), v4?.endAsync(), v5?.endAsync()])
    await t?.stop()
  })

  for (const { kind, code } of KINDS) {
    it(`refuses ${kind} with ${code}, ${ROUNDS} times on MQTT 3.1.1 and 5, and delivers none`, async () => {
      const def = KINDS.find((k) => k.kind === kind)!
      const before = facts.on('homefacts/deadletter/lily-cup-v4').length
      for (let i = 0; i < ROUNDS; i++) {
        const payload = def.make()
        const ack5 = await publishAck(v5, TOPIC, payload)
        expect(ack5.reasonCode).toBe(0x99)
        expect(ack5.reasonString).toMatch(new RegExp(`^${code}: `))
        // 3.1.1 has no reason codes: the publish is acknowledged and its letter says why.
        expect(await publishAck(v4, TOPIC, payload)).toStrictEqual({ reasonCode: 0 })
        const letter = (await facts.wait('homefacts/deadletter/lily-cup-v4', before + i + 1))[before + i]!
        expect(JSON.parse(letter.payload)).toMatchObject({ reason: { code }, clientId: 'lily-cup-v4', topic: TOPIC, payload })
      }
      expect(facts.on(TOPIC)).toStrictEqual([])
    }, 60_000)
  }

  it('refuses a replayed id with changed content (data, time or seq) with HF_DUPLICATE_ID, and delivers only the first', async () => {
    const first = cupEmpty(500)
    const payload = JSON.stringify(first)
    expect(await publishAck(v5, TOPIC, payload)).toStrictEqual({ reasonCode: 0 })
    const changed = [
      { ...first, data: { level: 0.5 } },
      { ...first, time: new Date(Date.parse(first.time) + 1000).toISOString() },
      { ...first, seq: first.seq + 1 },
      makeFact('cup.empty', { id: first.id, subject: thingSubject('kitchen', 'lily-cup'), source: first.source, seq: first.seq, data: { level: 0.01 } })
    ]
    for (const c of changed) {
      const ack = await publishAck(v5, TOPIC, JSON.stringify(c))
      expect(ack.reasonCode).toBe(0x99)
      expect(ack.reasonString).toMatch(/^HF_DUPLICATE_ID: /)
    }
    await facts.wait(TOPIC)
    expect(facts.on(TOPIC).map((m) => m.payload)).toStrictEqual([payload])
  })

  it('still serves: its health check answers and a good fact is delivered', async () => {
    const health = await (await fetch(`${t.httpUrl}/api/health`)).json() as { status: string }
    expect(health.status).toBe('ok')
    const good = JSON.stringify(cupEmpty(900))
    expect(await publishAck(v4, TOPIC, good)).toStrictEqual({ reasonCode: 0 })
    const got = await facts.wait((m) => m.payload === good)
    expect(got).toStrictEqual([{ topic: TOPIC, payload: good, qos: 1, retain: false }])
    // Nothing polluted the prototype of the process that parsed the hostile facts.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
