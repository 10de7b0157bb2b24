import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { pino } from 'pino'
import type { BoardLink } from '../../devices/board.ts'
import type { ControllerName } from '../../devices/cup/controllers.ts'
import { Device } from '../../devices/device.ts'
import { ThingEntry, toSpec } from '../../devices/spec.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox, type WireMessage } from '../helpers/mqtt.ts'
import { FakeClock } from './fake-clock.ts'

/** How one controller is driven in the shared suite. */
export interface CupFixture {
  controller: ControllerName
  pin?: string | number
  calibration?: { empty: number, full: number }
  /** Raw readings: an empty cup, a full cup, and (analog only) one inside the hysteresis band. */
  raw: { empty: number, full: number, band?: number }
  /** The `data` each fact must carry for those readings. */
  data: { empty: Record<string, number>, full: Record<string, number> }
  /** Opens what the device reads from; `drive` delivers one raw reading. */
  open: () => Promise<{ board?: BoardLink, drive: (device: Device, raw: number) => void, close: () => void }>
}

const START = Date.parse('2026-11-29T14:00:00.000Z')
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/
const silent = pino({ level: 'silent' })

/**
 * The one contract every cup controller keeps, asserted on the wire against a real hub:
 * exact topics, parsed payloads, retain flags and `seq`, with a fake clock for the debounce.
 */
export function cupContract (name: string, fixture: CupFixture): void {
  describe(`a cup read by ${name}`, () => {
    let t: TestHub
    let watcher: MqttClient
    let inbox: Inbox
    let creds: { username: string, password: string }
    let n = 0
    const dirs: string[] = []
    const running: { device: Device, close: () => void }[] = []

    beforeAll(async () => {
      t = await startTestHub({ anonymous: true })
      creds = await t.addUser({ username: 'kitchen-cups', role: 'device', things: ['kitchen/+'] })
      // MQTT 5 "retain as published", so the test sees the retain flag each message was sent with.
      watcher = await connect(t.anonymousUrl, { protocolVersion: 5, clientId: `watcher-${name}` })
      inbox = new Inbox(watcher)
      await watcher.subscribeAsync('home/kitchen/#', { qos: 1, rap: true })
    })
    afterAll(async () => {
      for (const r of running) {
        await r.device.stop()
        r.close()
      }
      await watcher?.endAsync()
      await t?.stop()
      for (const d of dirs) rmSync(d, { recursive: true, force: true })
    })

    /** Starts a cup device on a fresh thing (or `thing` again) and waits until it is online. */
    async function startCup (opts: { thing?: string, stateDir?: string } = {}) {
      const thing = opts.thing ?? `cup-${fixture.controller.toLowerCase()}-${++n}`
      const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'homefacts-device-'))
      if (!opts.stateDir) dirs.push(stateDir)
      const clock = new FakeClock(START)
      const driver = await fixture.open()
      const spec = toSpec(ThingEntry.parse({
        kind: 'cup',
        area: 'kitchen',
        thing,
        controller: fixture.controller,
        ...(fixture.pin !== undefined ? { pin: fixture.pin } : {}),
        ...(fixture.calibration ? { calibration: fixture.calibration } : {})
      }))
      const device = new Device({ spec, broker: { url: t.mqttUrl, ...creds, backoff: { minMs: 50, maxMs: 500 } }, stateDir, log: silent, clock, board: driver.board, discovery: false })
      const entry = { device, close: driver.close }
      running.push(entry)
      const onlineBefore = inbox.messages.filter((m) => m.topic === `home/kitchen/${thing}/availability` && m.payload === 'online').length
      device.start()
      await inbox.wait((m) => m.topic === `home/kitchen/${thing}/availability` && m.payload === 'online', onlineBefore + 1)
      const drive = (raw: number): void => driver.drive(device, raw)
      const stop = async (): Promise<void> => {
        running.splice(running.indexOf(entry), 1)
        await device.stop()
        driver.close()
      }
      return { thing, stateDir, clock, device, drive, stop }
    }

    const facts = (thing: string): WireMessage[] => inbox.messages.filter((m) => m.topic.startsWith(`home/kitchen/${thing}/fact/`))
    const waitFact = async (thing: string, count: number): Promise<WireMessage[]> => inbox.wait((m) => m.topic.startsWith(`home/kitchen/${thing}/fact/`), count)
    const waitState = async (thing: string, seq: number): Promise<WireMessage> => (await inbox.wait((m) => m.topic === `home/kitchen/${thing}/state` && (JSON.parse(m.payload) as { seq: number }).seq === seq))[0]!

    it('says online on its availability topic, retained, when it connects', async () => {
      const { thing } = await startCup()
      expect(inbox.on(`home/kitchen/${thing}/availability`)).toStrictEqual([{ topic: `home/kitchen/${thing}/availability`, payload: 'online', qos: 1, retain: true }])
    })

    it('publishes cup.filled and a retained full state with seq 1 once a full reading holds for the debounce', async () => {
      const { thing, clock, drive } = await startCup()
      drive(fixture.raw.full)
      clock.advance(499)
      drive(fixture.raw.full)
      clock.advance(1)
      const [fact] = await waitFact(thing, 1)
      const state = await waitState(thing, 1)
      expect({ ...fact!, payload: JSON.parse(fact!.payload) }).toStrictEqual({
        topic: `home/kitchen/${thing}/fact/filled`,
        qos: 1,
        retain: false,
        payload: {
          specversion: '1.0',
          id: expect.stringMatching(ULID),
          type: 'cup.filled',
          source: `devices/kitchen-${thing}`,
          subject: `home/kitchen/${thing}`,
          time: '2026-11-29T14:00:00.500Z',
          seq: 1,
          datacontenttype: 'application/json',
          data: fixture.data.full
        }
      })
      const id = (JSON.parse(fact!.payload) as { id: string }).id
      expect({ ...state, payload: JSON.parse(state.payload) }).toStrictEqual({
        topic: `home/kitchen/${thing}/state`,
        qos: 1,
        retain: true,
        payload: { value: 'full', seq: 1, since: '2026-11-29T14:00:00.500Z', factId: id }
      })
    })

    it('publishes cup.empty with seq 2 and a retained empty state when the cup is drunk', async () => {
      const { thing, clock, drive } = await startCup()
      drive(fixture.raw.full)
      clock.advance(500)
      await waitState(thing, 1)
      clock.advance(60_000)
      drive(fixture.raw.empty)
      clock.advance(500)
      const [, fact] = await waitFact(thing, 2)
      const state = await waitState(thing, 2)
      const parsed = JSON.parse(fact!.payload) as { id: string }
      expect({ ...fact!, payload: parsed }).toStrictEqual({
        topic: `home/kitchen/${thing}/fact/empty`,
        qos: 1,
        retain: false,
        payload: expect.objectContaining({ type: 'cup.empty', seq: 2, time: '2026-11-29T14:01:01.000Z', data: fixture.data.empty })
      })
      expect({ ...state, payload: JSON.parse(state.payload) }).toStrictEqual({
        topic: `home/kitchen/${thing}/state`,
        qos: 1,
        retain: true,
        payload: { value: 'empty', seq: 2, since: '2026-11-29T14:01:01.000Z', factId: parsed.id }
      })
    })

    it('publishes nothing for a reading that flips faster than the debounce', async () => {
      const { thing, clock, drive } = await startCup()
      drive(fixture.raw.full)
      clock.advance(500)
      await waitState(thing, 1)
      for (let i = 0; i < 10; i++) {
        drive(fixture.raw.empty)
        clock.advance(300)
        drive(fixture.raw.full)
        clock.advance(300)
      }
      // The device sends in order, so any flap would arrive before this real change and take its seq.
      drive(fixture.raw.empty)
      clock.advance(500)
      await waitState(thing, 2)
      expect(facts(thing).map((m) => [m.topic, (JSON.parse(m.payload) as { seq: number }).seq])).toStrictEqual([
        [`home/kitchen/${thing}/fact/filled`, 1],
        [`home/kitchen/${thing}/fact/empty`, 2]
      ])
    })

    it.skipIf(fixture.raw.band === undefined)('publishes nothing while the reading stays inside the hysteresis band', async () => {
      const { thing, clock, drive } = await startCup()
      drive(fixture.raw.full)
      clock.advance(500)
      await waitState(thing, 1)
      drive(fixture.raw.band!)
      clock.advance(10_000)
      drive(fixture.raw.full)
      clock.advance(10_000)
      drive(fixture.raw.empty)
      clock.advance(500)
      await waitState(thing, 2)
      expect(facts(thing).map((m) => (JSON.parse(m.payload) as { type: string, seq: number }).type)).toStrictEqual(['cup.filled', 'cup.empty'])
    })

    it('keeps seq and the last state across a restart of the device', async () => {
      const first = await startCup()
      first.drive(fixture.raw.full)
      first.clock.advance(500)
      await waitState(first.thing, 1)
      await first.device.publisher.drained()
      await first.stop()
      await inbox.wait((m) => m.topic === `home/kitchen/${first.thing}/availability` && m.payload === 'offline')
      const second = await startCup({ thing: first.thing, stateDir: first.stateDir })
      // Still full after the restart: not a change, so no fact.
      second.drive(fixture.raw.full)
      second.clock.advance(500)
      second.drive(fixture.raw.empty)
      second.clock.advance(500)
      await waitState(first.thing, 2)
      expect(facts(first.thing).map((m) => [(JSON.parse(m.payload) as { type: string }).type, (JSON.parse(m.payload) as { seq: number }).seq])).toStrictEqual([['cup.filled', 1], ['cup.empty', 2]])
    })
  })
}
