import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { pino } from 'pino'
import type { BoardLink } from '../../devices/board.ts'
import { Button, type PressResult } from '../../devices/button/button.ts'
import type { ButtonControllerName } from '../../devices/button/controllers.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { TestCup } from '../household/world.ts'
import { FakeClock } from './fake-clock.ts'

/** How one button controller is driven in the shared suite. */
export interface ButtonFixture {
  controller: ButtonControllerName
  pin?: number
  pullup?: boolean
  /** Raw readings while the button is held down and while it is up. */
  raw: { down: number, up: number }
  /** Opens what the button reads from; `drive` delivers one raw reading. */
  open: () => Promise<{ board?: BoardLink, drive: (button: Button, raw: number) => void, close: () => void }>
}

const DEBOUNCE = 30
const HOLD = 1000

/**
 * The one contract every button controller keeps, on a real hub: a press claims its thing's open
 * fact for its member, a long press says it is done, a press with nothing open does nothing and
 * says so in the log. Time is a fake clock where the button reads it.
 */
export function buttonContract (name: string, fixture: ButtonFixture): void {
  describe(`a button read by ${name}`, () => {
    let t: TestHub
    let watcher: MqttClient
    let cups: MqttClient
    let wire: Inbox
    let n = 0
    const logs: { msg: string, press?: string }[] = []
    const running: { button: Button, close: () => void }[] = []

    beforeAll(async () => {
      t = await startTestHub()
      const adm = await t.addUser({ username: 'watcher', role: 'admin' })
      const dev = await t.addUser({ username: 'cups', role: 'device', things: ['kitchen/+'] })
      watcher = await connect(t.mqttUrl, { ...adm, clientId: `watcher-${fixture.controller}`, protocolVersion: 5 })
      wire = new Inbox(watcher)
      await watcher.subscribeAsync('home/kitchen/#', { qos: 1, rap: true })
      cups = await connect(t.mqttUrl, { ...dev, clientId: `cups-${fixture.controller}`, protocolVersion: 5 })
    })
    afterAll(async () => {
      for (const r of running) {
        await r.button.stop()
        r.close()
      }
      await Promise.all([watcher, cups].map((c) => c?.endAsync()))
      await t?.stop()
    })

    /** Mummy's button on a fresh cup, started, with its drive and a fake clock. */
    async function startButton () {
      const thing = `cup-${fixture.controller.toLowerCase()}-${++n}`
      const creds = await t.addUser({ username: `mummy-button-${n}`, role: 'device', member: 'mummy', things: [`kitchen/${thing}`] })
      const driver = await fixture.open()
      const clock = new FakeClock()
      const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _e, done) => { for (const l of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(l)); done() } }))
      const button = new Button({
        member: 'mummy',
        things: [`kitchen/${thing}`],
        broker: { url: t.mqttUrl, ...creds },
        controller: fixture.controller,
        wiring: { pin: fixture.pin, pullup: fixture.pullup === true, invert: false },
        board: driver.board,
        clock,
        debounceMs: DEBOUNCE,
        holdMs: HOLD,
        log,
        clientId: `button-${n}`
      })
      running.push({ button, close: driver.close })
      await button.start()
      const cup = new TestCup(cups, 'kitchen', thing)
      const drive = (raw: number): void => driver.drive(button, raw)
      const result = (): Promise<PressResult> => new Promise((resolve) => button.once('result', resolve))
      const press = async (): Promise<PressResult> => {
        const r = result()
        drive(fixture.raw.down)
        clock.advance(DEBOUNCE)
        drive(fixture.raw.up)
        clock.advance(DEBOUNCE)
        return await r
      }
      const hold = async (): Promise<PressResult> => {
        const r = result()
        drive(fixture.raw.down)
        clock.advance(DEBOUNCE + HOLD)
        const got = await r
        drive(fixture.raw.up)
        clock.advance(DEBOUNCE)
        return got
      }
      /** Waits until the button's own mirror holds the state of the cup with this seq. */
      const sees = async (seq: number): Promise<void> => {
        const ok = await button.mirror!.waitFor(() => { const s = button.mirror!.state(cup.subject); return s?.status === 'value' && s.value.seq === seq ? true : undefined }, { timeoutMs: 5000 })
        expect(ok).toBe(true)
      }
      return { thing, cup, button, clock, drive, press, hold, sees }
    }

    it('claims the open fact of its thing for its member on a press, retained', async () => {
      const b = await startButton()
      const empty = await b.cup.empty()
      await b.sees(empty.seq)
      expect(await b.press()).toStrictEqual({ press: 'press', status: 'claimed', subject: b.cup.subject, factId: empty.id, detail: 'claimed for mummy' })
      const [claim] = await wire.wait((m) => m.topic === `${b.cup.subject}/claim` && m.payload !== '')
      expect({ ...claim!, payload: JSON.parse(claim!.payload) }).toStrictEqual({ topic: `${b.cup.subject}/claim`, payload: { factId: empty.id, by: 'mummy', at: expect.any(String) }, qos: 1, retain: true })
    })

    it('says it is done on a long press: the kind\'s resolving fact and state, and the broker clears the claim', async () => {
      const b = await startButton()
      const empty = await b.cup.empty()
      await b.sees(empty.seq)
      await b.press()
      expect(await b.hold()).toStrictEqual({ press: 'long', status: 'resolved', subject: b.cup.subject, factId: empty.id, detail: `${b.cup.subject} is done` })
      const [fact] = await wire.wait(`${b.cup.subject}/fact/filled`)
      const filled = JSON.parse(fact!.payload) as { id: string, time: string }
      expect({ ...fact!, payload: filled }).toStrictEqual({
        topic: `${b.cup.subject}/fact/filled`,
        qos: 1,
        retain: false,
        payload: expect.objectContaining({ type: 'cup.filled', subject: b.cup.subject, source: 'devices/button-mummy', seq: empty.seq + 1, causationid: empty.id, correlationid: empty.id, data: { level: 1 } })
      })
      const [state] = await wire.wait((m) => m.topic === `${b.cup.subject}/state` && m.payload.includes('"full"'))
      expect({ ...state!, payload: JSON.parse(state!.payload) }).toStrictEqual({ topic: `${b.cup.subject}/state`, payload: { value: 'full', seq: empty.seq + 1, since: filled.time, factId: filled.id }, qos: 1, retain: true })
      await wire.wait((m) => m.topic === `${b.cup.subject}/claim` && m.payload === '')
    })

    it('does nothing on a press with nothing open, and says so in the log', async () => {
      const b = await startButton()
      const full = await b.cup.filled()
      await b.sees(full.seq)
      const r = await b.press()
      expect(r).toStrictEqual({ press: 'press', status: 'nothing', detail: `${b.cup.subject} is "full": nothing open` })
      expect(logs.filter((l) => l.press === 'press' && l.msg.includes(`${b.cup.subject} is "full": nothing open`))).toHaveLength(1)
      expect(logs.at(-1)!.msg).toBe(`press: nothing to do (${b.cup.subject} is "full": nothing open)`)
      expect(wire.messages.filter((m) => m.topic === `${b.cup.subject}/claim`)).toStrictEqual([])
    })

    it('leaves an open fact someone else has claimed alone', async () => {
      const b = await startButton()
      const empty = await b.cup.empty()
      await watcher.publishAsync(`${b.cup.subject}/claim`, JSON.stringify({ factId: empty.id, by: 'daddy', at: new Date().toISOString() }), { qos: 1, retain: true })
      await b.button.mirror!.waitFor(() => b.button.mirror!.claim(b.cup.subject) ? true : undefined, { timeoutMs: 5000 })
      await b.sees(empty.seq)
      expect(await b.press()).toStrictEqual({ press: 'press', status: 'nothing', detail: `${b.cup.subject} is already claimed by daddy` })
      expect(await b.hold()).toStrictEqual({ press: 'long', status: 'nothing', detail: `${b.cup.subject} is already claimed by daddy` })
    })

    it('counts a contact that bounces faster than the debounce as no press', async () => {
      const b = await startButton()
      const empty = await b.cup.empty()
      await b.sees(empty.seq)
      let results = 0
      b.button.on('result', () => { results++ })
      for (let i = 0; i < 5; i++) {
        b.drive(fixture.raw.down)
        b.clock.advance(DEBOUNCE / 3)
        b.drive(fixture.raw.up)
        b.clock.advance(DEBOUNCE / 3)
      }
      b.clock.advance(HOLD * 2)
      // A real press after the bounce is the first and only one.
      expect((await b.press()).status).toBe('claimed')
      expect(results).toBe(1)
    })
  })
}
