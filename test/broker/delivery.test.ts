import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'

describe('the broker delivers valid facts', () => {
  let t: TestHub
  let device: MqttClient
  let parent: MqttClient
  beforeAll(async () => {
    t = await startTestHub()
    const dev = await t.addUser({ username: 'lily-cup', role: 'device', things: ['kitchen/lily-cup'] })
    const mum = await t.addUser({ username: 'mummy-phone', role: 'member', member: 'mummy' })
    device = await connect(t.mqttUrl, { ...dev, clientId: 'dev-lily-cup' })
    parent = await connect(t.mqttUrl, { ...mum, clientId: 'phone-mummy' })
  })
  afterAll(async () => {
    await device?.endAsync()
    await parent?.endAsync()
    await t?.stop()
  })

  it('delivers a valid QoS 1 fact to a subscriber unchanged', async () => {
    const inbox = new Inbox(parent)
    await parent.subscribeAsync('home/+/+/fact/+', { qos: 1 })
    const fact = cupEmpty(1)
    const payload = JSON.stringify(fact)
    await device.publishAsync('home/kitchen/lily-cup/fact/empty', payload, { qos: 1 })
    const [msg] = await inbox.wait('home/kitchen/lily-cup/fact/empty')
    expect(msg).toStrictEqual({ topic: 'home/kitchen/lily-cup/fact/empty', payload, qos: 1, retain: false })
  })
})
