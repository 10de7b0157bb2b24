import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { pino } from 'pino'
import { Codes } from '#contract'
import { runDevices, type Running } from '../../devices/runner.ts'
import { loadThingsFile, parseThings } from '../../devices/things-file.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'

const THINGS = {
  port: '/dev/ttyACM0',
  things: [
    { kind: 'button', area: 'hall', thing: 'doorbell', pin: 2, pullup: true },
    { kind: 'door', area: 'hall', thing: 'front-door', pin: 3, pullup: true },
    { kind: 'motion', area: 'hall', thing: 'landing', pin: 7 }
  ]
}

describe('the things file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homefacts-things-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('names each bad key in a coded error', () => {
    const bad = { things: [{ kind: 'door', area: 'hall', thing: 'Front Door', pin: 3 }, { kind: 'kettle', area: 'kitchen', thing: 'k' }, { kind: 'cup', area: 'kitchen', thing: 'c', pin: 'A0', thresholds: { low: 0.9, high: 0.1 } }] }
    let err: unknown
    try {
      parseThings(bad, 'things.json')
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: Codes.THINGS_FILE })
    expect((err as { issues: { path: string }[] }).issues.map((i) => i.path)).toStrictEqual(['things.0.thing', 'things.1.kind', 'things.2.thresholds'])
  })

  it('says which thing needs a pin, and which is declared twice', () => {
    expect(() => parseThings({ things: [{ kind: 'door', area: 'hall', thing: 'front-door' }] }, 'f')).toThrow(expect.objectContaining({ code: Codes.THINGS_FILE, issues: [{ path: 'things.0.pin', message: expect.stringContaining('BUTTON') }] }))
    expect(() => parseThings({ things: [THINGS.things[0], THINGS.things[0]] }, 'f')).toThrow(expect.objectContaining({ issues: [{ path: 'things.1.thing', message: '"hall/doorbell" is declared twice' }] }))
  })

  it('reports a missing file and bad JSON as HF_THINGS_FILE', () => {
    expect(() => loadThingsFile(join(dir, 'nope.json'))).toThrow(expect.objectContaining({ code: Codes.THINGS_FILE }))
    writeFileSync(join(dir, 'broken.json'), '{ things: ')
    expect(() => loadThingsFile(join(dir, 'broken.json'))).toThrow(expect.objectContaining({ code: Codes.THINGS_FILE }))
  })
})

describe('homefacts device run --simulate with a button, a door contact and a motion sensor', () => {
  let t: TestHub
  let watcher: MqttClient
  let inbox: Inbox
  let running: Running
  let dir: string

  beforeAll(async () => {
    t = await startTestHub({ anonymous: true })
    const creds = await t.addUser({ username: 'hall', role: 'device', things: ['hall/+'] })
    watcher = await connect(t.anonymousUrl, { protocolVersion: 5 })
    inbox = new Inbox(watcher)
    await watcher.subscribeAsync('home/hall/#', { qos: 1, rap: true })
    dir = mkdtempSync(join(tmpdir(), 'homefacts-things-'))
    writeFileSync(join(dir, 'things.json'), JSON.stringify(THINGS))
    const file = loadThingsFile(join(dir, 'things.json'), true)
    running = await runDevices({ things: file.things, broker: { url: t.mqttUrl, ...creds }, stateDir: dir, log: pino({ level: 'silent' }), discovery: false })
    await inbox.wait((m) => m.topic.endsWith('/availability') && m.payload === 'online', 3)
  })
  afterAll(async () => {
    await running?.stop()
    await watcher?.endAsync()
    await t?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('publishes each thing\'s facts under the fact name its type ends with, and its retained state', async () => {
    const [bell, door, landing] = running.devices
    bell!.source.set(1)
    door!.source.set(1)
    landing!.source.set(1)
    await inbox.wait((m) => m.topic.endsWith('/state'), 3)
    door!.source.set(0)
    await inbox.wait((m) => m.topic.endsWith('/state'), 4)
    const wire = inbox.messages.filter((m) => !m.topic.endsWith('/availability')).map((m) => {
      const p = JSON.parse(m.payload) as { type?: string, seq: number, value?: string, data?: unknown }
      return [m.topic, m.retain, p.type ?? p.value, p.seq, p.data]
    }).sort((a, b) => String(a[0]).localeCompare(String(b[0])) || Number(a[3]) - Number(b[3]))
    expect(wire).toStrictEqual([
      ['home/hall/doorbell/fact/pressed', false, 'button.pressed', 1, { raw: 1 }],
      ['home/hall/doorbell/state', true, 'pressed', 1, undefined],
      ['home/hall/front-door/fact/closed', false, 'door.closed', 2, { raw: 0 }],
      ['home/hall/front-door/fact/opened', false, 'door.opened', 1, { raw: 1 }],
      ['home/hall/front-door/state', true, 'open', 1, undefined],
      ['home/hall/front-door/state', true, 'closed', 2, undefined],
      ['home/hall/landing/fact/detected', false, 'motion.detected', 1, { raw: 1 }],
      ['home/hall/landing/state', true, 'detected', 1, undefined]
    ])
  })
})
