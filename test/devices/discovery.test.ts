import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { pino } from 'pino'
import { Device } from '../../devices/device.ts'
import { discoveryPayload } from '../../devices/discovery.ts'
import { ThingEntry, toSpec } from '../../devices/spec.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'

const TOPIC = 'homeassistant/device/homefacts-kitchen-lily-cup/config'

describe('Home Assistant discovery', () => {
  let t: TestHub
  let ha: MqttClient
  let inbox: Inbox
  let device: Device
  let stateDir: string

  beforeAll(async () => {
    t = await startTestHub({ anonymous: true })
    const creds = await t.addUser({ username: 'lily-cup', role: 'device', things: ['kitchen/lily-cup'] })
    ha = await connect(t.anonymousUrl, { protocolVersion: 5, clientId: 'home-assistant' })
    inbox = new Inbox(ha)
    await ha.subscribeAsync('homeassistant/device/#', { qos: 1, rap: true })
    stateDir = mkdtempSync(join(tmpdir(), 'homefacts-device-'))
    const spec = toSpec(ThingEntry.parse({ kind: 'cup', area: 'kitchen', thing: 'lily-cup', name: "Lily's cup" }), true)
    device = new Device({ spec, broker: { url: t.mqttUrl, ...creds }, stateDir, log: pino({ level: 'silent' }) })
    device.start()
  })
  afterAll(async () => {
    await device?.stop()
    await ha?.endAsync()
    await t?.stop()
    rmSync(stateDir, { recursive: true, force: true })
  })

  it('publishes the cup as a retained device with an enum sensor on its state and availability topics', async () => {
    const [msg] = await inbox.wait(TOPIC)
    expect({ ...msg!, payload: JSON.parse(msg!.payload) }).toStrictEqual({
      topic: TOPIC,
      qos: 1,
      retain: true,
      payload: {
        device: { identifiers: ['homefacts-kitchen-lily-cup'], name: "Lily's cup", manufacturer: 'homefacts', model: 'Cup', suggested_area: 'Kitchen' },
        origin: { name: 'homefacts' },
        components: {
          'homefacts-kitchen-lily-cup-state': {
            platform: 'sensor',
            device_class: 'enum',
            options: ['empty', 'full'],
            unique_id: 'homefacts-kitchen-lily-cup-state',
            name: null,
            state_topic: 'home/kitchen/lily-cup/state',
            value_template: '{{ value_json.value }}',
            json_attributes_topic: 'home/kitchen/lily-cup/state'
          }
        },
        availability_topic: 'home/kitchen/lily-cup/availability',
        payload_available: 'online',
        payload_not_available: 'offline',
        qos: 1
      }
    })
  })

  it('publishes it again when Home Assistant says it is online', async () => {
    await inbox.wait(TOPIC)
    await ha.publishAsync('homeassistant/status', 'online', { qos: 1 })
    const [first, again] = await inbox.wait(TOPIC, 2)
    expect(again).toStrictEqual(first)
  })

  it('shows a door contact as a binary sensor whose on and off payloads are the state values', () => {
    const payload = discoveryPayload('door', 'hall', 'front-door')
    expect(payload.components).toStrictEqual({
      'homefacts-hall-front-door-state': {
        platform: 'binary_sensor',
        device_class: 'door',
        payload_on: 'open',
        payload_off: 'closed',
        unique_id: 'homefacts-hall-front-door-state',
        name: null,
        state_topic: 'home/hall/front-door/state',
        value_template: '{{ value_json.value }}',
        json_attributes_topic: 'home/hall/front-door/state'
      }
    })
  })
})
