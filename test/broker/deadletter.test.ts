import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox, publishAck } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'

const FACT = 'home/kitchen/lily-cup/fact/empty'

describe('the contract check refuses invalid publishes to the dead-letter topic', () => {
  let t: TestHub
  let watcher: MqttClient
  let inbox: Inbox
  beforeAll(async () => {
    t = await startTestHub()
    const admin = await t.addUser({ username: 'ops', role: 'admin' })
    watcher = await connect(t.mqttUrl, { ...admin, clientId: 'watcher' })
    inbox = new Inbox(watcher)
    await watcher.subscribeAsync(['home/#', 'homefacts/deadletter/#'], { qos: 1 })
  })
  afterAll(async () => {
    await watcher?.endAsync()
    await t?.stop()
  })

  for (const protocolVersion of [4, 5] as const) {
    describe(`for an MQTT ${protocolVersion === 4 ? '3.1.1' : '5'} client`, () => {
      const clientId = `cup-v${protocolVersion}`
      let device: MqttClient
      beforeAll(async () => {
        const creds = await t.addUser({ username: clientId, role: 'device', things: ['kitchen/lily-cup'] })
        device = await connect(t.mqttUrl, { ...creds, clientId, protocolVersion })
      })
      afterAll(() => device?.endAsync())

      it('dead-letters a fact with invalid data with the reason and the original payload, and keeps the client connected', async () => {
        const bad = JSON.stringify({ ...cupEmpty(1), data: { level: 7 } })
        // MQTT 5 is told why (0x99 payload format invalid, with the reason); 3.1.1 has no reason codes.
        expect(await publishAck(device, FACT, bad)).toStrictEqual(protocolVersion === 5
          ? { reasonCode: 0x99, reasonString: 'HF_DATA: invalid data for "cup.empty"' }
          : { reasonCode: 0 })
        const [letter] = await inbox.wait(`homefacts/deadletter/${clientId}`)
        expect(letter!.qos).toBe(1)
        expect(letter!.retain).toBe(false)
        const body = JSON.parse(letter!.payload)
        expect(body).toStrictEqual({
          reason: { code: 'HF_DATA', message: 'invalid data for "cup.empty"', issues: [{ path: 'data.level', message: 'Too big: expected number to be <=1' }] },
          clientId,
          topic: FACT,
          qos: 1,
          retain: false,
          payload: bad,
          encoding: 'utf8',
          at: expect.any(String)
        })
        expect(inbox.on(FACT).filter((m) => m.payload === bad)).toStrictEqual([])
        expect(device.connected).toBe(true)
        // The same connection still delivers a valid fact afterwards.
        const good = JSON.stringify(cupEmpty(2))
        await device.publishAsync(FACT, good, { qos: 1 })
        await inbox.wait((m) => m.topic === FACT && m.payload === good)
      })

      it.each([
        ['a payload that is not JSON', FACT, 'not json', {}, 'HF_NOT_JSON'],
        ['an unknown fact type', 'home/kitchen/lily-cup/fact/exploded', JSON.stringify({ ...cupEmpty(1), type: 'cup.exploded' }), {}, 'HF_UNKNOWN_TYPE'],
        ['a broken envelope', FACT, JSON.stringify({ ...cupEmpty(1), specversion: '0.3' }), {}, 'HF_ENVELOPE'],
        ['a subject that is not the topic', FACT, JSON.stringify(cupEmpty(1, 'hall', 'lily-cup')), {}, 'HF_SUBJECT_MISMATCH'],
        ['a fact under the wrong name', 'home/kitchen/lily-cup/fact/filled', JSON.stringify(cupEmpty(1)), {}, 'HF_TYPE_MISMATCH'],
        ['a retained fact', FACT, JSON.stringify(cupEmpty(1)), { retain: true }, 'HF_RETAIN'],
        ['a state without retain', 'home/kitchen/lily-cup/state', '{}', {}, 'HF_RETAIN'],
        ['an invalid state', 'home/kitchen/lily-cup/state', JSON.stringify({ value: 'empty', seq: -1 }), { retain: true }, 'HF_PAYLOAD'],
        ['a topic of no known shape', 'home/kitchen/lily-cup/whatever', 'x', {}, 'HF_TOPIC_SHAPE'],
        ['a topic outside its own subtree', 'home/hall/door/availability', 'online', { retain: true }, 'HF_NOT_AUTHORIZED']
      ])('dead-letters %s', async (_what, topic, payload, opts, code) => {
        const before = inbox.on(`homefacts/deadletter/${clientId}`).length
        const ack = await publishAck(device, topic, payload, opts)
        expect(ack.reasonCode).toBe(protocolVersion === 4 ? 0 : code === 'HF_NOT_AUTHORIZED' ? 0x87 : 0x99)
        if (protocolVersion === 5) expect(ack.reasonString).toMatch(new RegExp(`^${code}: `))
        const letters = await inbox.wait(`homefacts/deadletter/${clientId}`, before + 1)
        const body = JSON.parse(letters.at(-1)!.payload)
        expect(body.reason.code).toBe(code)
        expect(body.topic).toBe(topic)
        expect(body.payload).toBe(payload)
        expect(inbox.messages.filter((m) => m.topic === topic && m.payload === payload)).toStrictEqual([])
        expect(device.connected).toBe(true)
      })
    })
  }
})

describe('a fact id is the fact: the ledger refuses it for a different fact', () => {
  let t: TestHub
  beforeAll(async () => { t = await startTestHub() })
  afterAll(() => t?.stop())

  for (const protocolVersion of [4, 5] as const) {
    it(`dead-letters a different fact under a used id with HF_DUPLICATE_ID (MQTT ${protocolVersion === 4 ? '3.1.1' : '5: 0x99'}), and takes an exact redelivery as a success`, async () => {
      const admin = await t.addUser({ username: `ops-${protocolVersion}`, role: 'admin' })
      const watcher = await connect(t.mqttUrl, { ...admin, clientId: `watch-${protocolVersion}` })
      const inbox = new Inbox(watcher)
      await watcher.subscribeAsync(['home/#', 'homefacts/deadletter/#'], { qos: 1 })
      const clientId = `dup-v${protocolVersion}`
      const c = await connect(t.mqttUrl, { ...admin, clientId, protocolVersion })
      const thing = `dup-${protocolVersion}`
      const topic = `home/kitchen/${thing}/fact/empty`
      const fact = cupEmpty(1, 'kitchen', thing)
      expect(await publishAck(c, topic, JSON.stringify(fact))).toStrictEqual({ reasonCode: 0 })
      const other = JSON.stringify({ ...fact, seq: 2, data: { level: 0.01 } })
      expect(await publishAck(c, topic, other)).toStrictEqual(protocolVersion === 5
        ? { reasonCode: 0x99, reasonString: `HF_DUPLICATE_ID: fact id ${fact.id} is already in the ledger for a different fact` }
        : { reasonCode: 0 })
      const [letter] = await inbox.wait(`homefacts/deadletter/${clientId}`)
      expect(JSON.parse(letter!.payload)).toMatchObject({ reason: { code: 'HF_DUPLICATE_ID' }, topic, payload: other })
      expect(await publishAck(c, topic, JSON.stringify(fact))).toStrictEqual({ reasonCode: 0 })
      const delivered = await inbox.wait(topic, 2)
      expect(delivered.map((m) => m.payload)).toStrictEqual([JSON.stringify(fact), JSON.stringify(fact)])
      expect(t.hub.ledger.read({ topic }).map((e) => e.fact)).toStrictEqual([fact])
      await c.endAsync()
      await watcher.endAsync()
    })
  }
})
