import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { pino } from 'pino'
import { Fleet, type FleetMember } from '../../devices/fleet.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'

describe('the fleet simulator', () => {
  let t: TestHub
  let watcher: MqttClient
  let inbox: Inbox
  const members: FleetMember[] = []

  beforeAll(async () => {
    t = await startTestHub({ anonymous: true })
    for (let i = 0; i < 5; i++) {
      const c = await t.addUser({ username: `sim-${i}`, role: 'device', things: [`sim/thing-${i}`] })
      members.push({ ...c, area: 'sim', thing: `thing-${i}` })
    }
    watcher = await connect(t.anonymousUrl, { protocolVersion: 5 })
    inbox = new Inbox(watcher)
    await watcher.subscribeAsync('home/sim/+/fact/+', { qos: 1 })
  })
  afterAll(async () => {
    await watcher?.endAsync()
    await t?.stop()
  })

  it('connects each thing with its own login, and every change it counts arrives with gapless seq per thing', async () => {
    const fleet = new Fleet({ url: t.mqttUrl, members, rate: 100, durationMs: 500, log: pino({ level: 'silent' }) })
    const summary = await fleet.run()
    expect(summary).toMatchObject({ things: 5, pending: 0 })
    expect(summary.recorded).toBeGreaterThan(10)
    await inbox.wait((m) => m.topic.startsWith('home/sim/'), summary.recorded)
    for (const m of members) {
      const seqs = inbox.messages.filter((x) => x.topic.startsWith(`home/sim/${m.thing}/`)).map((x) => (JSON.parse(x.payload) as { seq: number }).seq)
      expect(seqs).toStrictEqual(seqs.map((_, i) => i + 1))
    }
  })

  it('stops early when told to', async () => {
    const fleet = new Fleet({ url: t.mqttUrl, members, rate: 10, durationMs: 60_000, log: pino({ level: 'silent' }) })
    const run = fleet.run()
    await inbox.wait((m) => m.topic.startsWith('home/sim/'), inbox.messages.length + 1)
    fleet.stop()
    const summary = await run
    expect(summary.runMs).toBeLessThan(60_000)
  })
})
