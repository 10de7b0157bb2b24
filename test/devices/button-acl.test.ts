import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, publishAck } from '../helpers/mqtt.ts'
import { TestCup } from '../household/world.ts'

/** A button is a device with its own user, bound to a member and things. */
describe('what the broker lets a button claim', () => {
  let t: TestHub
  let cups: MqttClient
  let button: MqttClient
  let sensor: MqttClient
  const claim = (factId: string, by: string): string => JSON.stringify({ factId, by, at: new Date().toISOString() })

  beforeAll(async () => {
    t = await startTestHub()
    const dev = await t.addUser({ username: 'cups', role: 'device', things: ['kitchen/+'] })
    cups = await connect(t.mqttUrl, { ...dev, clientId: 'cups', protocolVersion: 5 })
    const btn = await t.addUser({ username: 'mummy-button', role: 'device', member: 'mummy', things: ['kitchen/lily-cup'] })
    button = await connect(t.mqttUrl, { ...btn, clientId: 'mummy-button', protocolVersion: 5 })
    const plain = await t.addUser({ username: 'cup-sensor', role: 'device', things: ['kitchen/lily-cup'] })
    sensor = await connect(t.mqttUrl, { ...plain, clientId: 'cup-sensor', protocolVersion: 5 })
  })
  afterAll(async () => {
    await Promise.all([cups, button, sensor].map((c) => c?.endAsync()))
    await t.stop()
  })

  it('accepts a claim as its member on its own thing', async () => {
    const empty = await new TestCup(cups, 'kitchen', 'lily-cup').empty()
    expect(await publishAck(button, 'home/kitchen/lily-cup/claim', claim(empty.id, 'mummy'), { retain: true })).toStrictEqual({ reasonCode: 0 })
    expect(JSON.parse((await t.hub.broker.retained('home/kitchen/lily-cup/claim'))!.toString())).toMatchObject({ factId: empty.id, by: 'mummy' })
  })

  it('refuses a claim as another member', async () => {
    const empty = await new TestCup(cups, 'kitchen', 'lily-cup').empty()
    expect(await publishAck(button, 'home/kitchen/lily-cup/claim', claim(empty.id, 'daddy'), { retain: true })).toStrictEqual({
      reasonCode: 0x87,
      reasonString: 'HF_NOT_AUTHORIZED: this button claims only as "mummy"'
    })
  })

  it('refuses a claim on a thing that is not its own, and any claim from a device bound to no member', async () => {
    const other = await new TestCup(cups, 'kitchen', 'other-cup').empty()
    expect((await publishAck(button, 'home/kitchen/other-cup/claim', claim(other.id, 'mummy'), { retain: true })).reasonCode).toBe(0x87)
    const empty = await new TestCup(cups, 'kitchen', 'lily-cup').empty()
    expect((await publishAck(sensor, 'home/kitchen/lily-cup/claim', claim(empty.id, 'mummy'), { retain: true })).reasonCode).toBe(0x87)
  })
})
