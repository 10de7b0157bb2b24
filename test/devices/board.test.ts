import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { pino } from 'pino'
import { Codes } from '#contract'
import { BoardLink, checkPort } from '../../devices/board.ts'
import { Device } from '../../devices/device.ts'
import { runDevices } from '../../devices/runner.ts'
import { ThingEntry, toSpec } from '../../devices/spec.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { MockBoard } from './mock-board.ts'

const silent = pino({ level: 'silent' })
const AVAIL = 'home/kitchen/lily-cup/availability'

describe('a board that comes and goes', () => {
  let t: TestHub
  let watcher: MqttClient
  let inbox: Inbox
  let stateDir: string
  let device: Device
  let board: MockBoard

  beforeAll(async () => {
    t = await startTestHub({ anonymous: true })
    const creds = await t.addUser({ username: 'lily-cup', role: 'device', things: ['kitchen/lily-cup'] })
    watcher = await connect(t.anonymousUrl, { protocolVersion: 5 })
    inbox = new Inbox(watcher)
    await watcher.subscribeAsync('home/kitchen/lily-cup/#', { qos: 1, rap: true })
    stateDir = mkdtempSync(join(tmpdir(), 'homefacts-device-'))
    board = new MockBoard(20)
    await board.link.start()
    const spec = toSpec(ThingEntry.parse({ kind: 'cup', area: 'kitchen', thing: 'lily-cup', pin: 'A0', calibration: { empty: 200, full: 800 }, debounceMs: 0 }))
    device = new Device({ spec, broker: { url: t.mqttUrl, ...creds }, stateDir, log: silent, board: board.link, discovery: false })
    device.start()
    await inbox.wait((m) => m.topic === AVAIL && m.payload === 'online')
  })
  afterAll(async () => {
    await device?.stop()
    board?.link.stop()
    await watcher?.endAsync()
    await t?.stop()
    rmSync(stateDir, { recursive: true, force: true })
  })

  it('goes offline when the board is unplugged, and back online reading again when it returns', async () => {
    board.unplug()
    const [offline] = await inbox.wait((m) => m.topic === AVAIL && m.payload === 'offline')
    expect(offline).toStrictEqual({ topic: AVAIL, payload: 'offline', qos: 1, retain: true })
    // The link looks for the board again; the mock answers on the next open.
    await inbox.wait((m) => m.topic === AVAIL && m.payload === 'online', 2)
    expect(board.opened).toBe(2)
    board.analog(0, 790)
    const [fact] = await inbox.wait((m) => m.topic === 'home/kitchen/lily-cup/fact/filled')
    expect(JSON.parse(fact!.payload)).toMatchObject({ type: 'cup.filled', seq: 1, data: { level: 0.983, raw: 790 } })
  })
})

describe('a missing or wrong serial port', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homefacts-port-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('is HF_DEVICE_PORT when the path does not exist', () => {
    expect(() => checkPort(join(dir, 'ttyACM9'))).toThrow(expect.objectContaining({ code: Codes.DEVICE_PORT, message: expect.stringContaining('is the board plugged in') }))
  })

  it('is HF_DEVICE_PORT when the path is not a serial device', () => {
    const file = join(dir, 'not-a-tty')
    writeFileSync(file, '')
    expect(() => checkPort(file)).toThrow(expect.objectContaining({ code: Codes.DEVICE_PORT }))
  })

  it('is HF_DEVICE_PORT before anything connects when a board thing is given no port', async () => {
    const spec = toSpec(ThingEntry.parse({ kind: 'cup', area: 'kitchen', thing: 'lily-cup', pin: 'A0' }))
    await expect(runDevices({ things: [spec], broker: { url: 'mqtt://127.0.0.1:1' }, stateDir: dir, log: silent })).rejects.toMatchObject({ code: Codes.DEVICE_PORT })
  })

  it('is HF_DEVICE_PORT, not a serialport crash, when a board link has neither port nor io', () => {
    expect(() => new BoardLink({ log: silent })).toThrow(expect.objectContaining({ code: Codes.DEVICE_PORT }))
  })
})
