import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'

/** The two-byte numbers mqtt-packet (aedes's encoder and mqtt.js's) keeps once it has written a packet, unless told not to. */
const numberCache = (createRequire(import.meta.url)('mqtt-packet/numbers.js') as { cache: Record<number, Buffer> }).cache

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

  it('writes every message id from its own two bytes, and mqtt-packet keeps no number cache', async () => {
    // Subscribed in the first test; each delivery on this connection takes the next id.
    const ids: number[] = []
    const got = new Promise<void>((resolve) => {
      parent.on('packetreceive', (p) => {
        if (p.cmd !== 'publish' || p.topic !== 'home/kitchen/lily-cup/fact/empty') return
        ids.push(p.messageId!)
        if (ids.length === 301) resolve()
      })
    })
    for (let seq = 2; seq <= 302; seq++) await device.publishAsync('home/kitchen/lily-cup/fact/empty', JSON.stringify(cupEmpty(seq)), { qos: 1 })
    await got
    expect(ids).toStrictEqual(Array.from({ length: 301 }, (_, i) => ids[0]! + i))
    expect(Object.keys(numberCache)).toHaveLength(0)
  })
})
