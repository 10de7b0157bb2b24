import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { pino } from 'pino'
import { Device } from '../../devices/device.ts'
import { ThingEntry, toSpec } from '../../devices/spec.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, connectInbox, publishAck, type Inbox } from '../helpers/mqtt.ts'

const DISCOVERY = 'homeassistant/device/homefacts-kitchen-lily-cup/config'

/**
 * Home Assistant's MQTT client, emulated with a v5 client as its integration behaves:
 * a will and a birth on `homeassistant/status`, discovery read from retained configs and asked
 * for again by the birth, retained state and availability. It logs in with a role of its own.
 */
describe('Home Assistant against the hub', () => {
  let t: TestHub
  let device: Device
  let stateDir: string
  let ha: MqttClient
  let inbox: Inbox
  let observer: MqttClient
  let observed: Inbox

  beforeAll(async () => {
    t = await startTestHub()
    const cup = await t.addUser({ username: 'lily-cup', role: 'device', things: ['kitchen/lily-cup'] })
    const haUser = await t.addUser({ username: 'home-assistant', role: 'homeassistant' })
    const admin = await t.addUser({ username: 'root', role: 'admin' })
    stateDir = mkdtempSync(join(tmpdir(), 'homefacts-device-'))
    device = new Device({ spec: toSpec(ThingEntry.parse({ kind: 'cup', area: 'kitchen', thing: 'lily-cup' }), true), broker: { url: t.mqttUrl, ...cup }, stateDir, log: pino({ level: 'silent' }) })
    device.start()
    ;({ client: observer, inbox: observed } = await connectInbox(t.mqttUrl, { ...admin, protocolVersion: 5, clientId: 'observer' }))
    await observer.subscribeAsync(['homeassistant/status', 'home/kitchen/lily-cup/availability'], { qos: 1 })
    await observed.wait((m) => m.topic === 'home/kitchen/lily-cup/availability' && m.payload === 'online')
    ;({ client: ha, inbox } = await connectInbox(t.mqttUrl, {
      ...haUser, protocolVersion: 5, clientId: 'home-assistant', clean: true,
      will: { topic: 'homeassistant/status', payload: Buffer.from('offline'), qos: 1, retain: false }
    }))
    await ha.subscribeAsync(['homeassistant/#', 'home/+/+/state', 'home/+/+/availability'], { qos: 1 })
  })
  afterAll(async () => {
    await device?.stop()
    await Promise.all([ha, observer].map((c) => c?.endAsync()))
    await t?.stop()
    rmSync(stateDir, { recursive: true, force: true })
  })

  it('reads the retained discovery and availability at subscribe', async () => {
    const [config] = await inbox.wait(DISCOVERY)
    expect(config).toMatchObject({ qos: 1, retain: true })
    expect(JSON.parse(config!.payload)).toMatchObject({ availability_topic: 'home/kitchen/lily-cup/availability', components: { 'homefacts-kitchen-lily-cup-state': { state_topic: 'home/kitchen/lily-cup/state' } } })
    const [availability] = await inbox.wait('home/kitchen/lily-cup/availability')
    expect(availability).toStrictEqual({ topic: 'home/kitchen/lily-cup/availability', payload: 'online', qos: 1, retain: true })
  })

  it('gets the discovery again when it says it is online (its birth)', async () => {
    await inbox.wait(DISCOVERY)
    expect((await publishAck(ha, 'homeassistant/status', 'online')).reasonCode).toBe(0)
    const [first, again] = await inbox.wait(DISCOVERY, 2)
    expect(again!.payload).toBe(first!.payload)
    // Forwarded live, so RETAIN is clear [MQTT-3.3.1-9]: Home Assistant takes it as a fresh announcement.
    expect(again!.retain).toBe(false)
  })

  it('may not write a device\'s state, its availability or a discovery config', async () => {
    for (const topic of ['home/kitchen/lily-cup/state', 'home/kitchen/lily-cup/availability', DISCOVERY]) {
      expect((await publishAck(ha, topic, 'x', { retain: true })).reasonCode).toBe(0x87)
    }
    expect(JSON.parse(String(await t.hub.broker.retained(DISCOVERY)))).toMatchObject({ origin: { name: 'homefacts' } })
  })

  it('its will says offline on homeassistant/status when it drops', async () => {
    ha.stream.destroy()
    const [will] = await observed.wait((m) => m.topic === 'homeassistant/status' && m.payload === 'offline')
    expect(will).toStrictEqual({ topic: 'homeassistant/status', payload: 'offline', qos: 1, retain: false })
  })
})
