import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { pino } from 'pino'
import { Device } from '../../devices/device.ts'
import { ThingEntry, toSpec } from '../../devices/spec.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { FakeClock } from './fake-clock.ts'
import { Gate } from './gate.ts'

describe('the durable outbox', () => {
  let t: TestHub
  let watcher: MqttClient
  let inbox: Inbox
  let creds: { username: string, password: string }
  let gate: Gate
  let gateUrl: string
  const dirs: string[] = []
  const devices: Device[] = []

  beforeAll(async () => {
    t = await startTestHub({ anonymous: true })
    creds = await t.addUser({ username: 'kitchen-cups', role: 'device', things: ['kitchen/+'] })
    watcher = await connect(t.anonymousUrl, { protocolVersion: 5 })
    inbox = new Inbox(watcher)
    await watcher.subscribeAsync('home/kitchen/#', { qos: 1, rap: true })
    gate = new Gate(t.hub.broker.ports.mqtt)
    gateUrl = await gate.listen()
  })
  afterAll(async () => {
    for (const d of devices) await d.stop()
    await gate?.close()
    await watcher?.endAsync()
    await t?.stop()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  function cup (thing: string, stateDir: string, opts: { maxOutbox?: number, log?: pino.Logger } = {}): { device: Device, clock: FakeClock, toggle: (n: number) => void } {
    const clock = new FakeClock()
    const spec = toSpec(ThingEntry.parse({ kind: 'cup', area: 'kitchen', thing }), true)
    const device = new Device({ spec, broker: { url: gateUrl, ...creds, backoff: { minMs: 20, maxMs: 200 } }, stateDir, log: opts.log ?? pino({ level: 'silent' }), clock, discovery: false, ...(opts.maxOutbox ? { maxOutbox: opts.maxOutbox } : {}) })
    devices.push(device)
    device.start()
    // Alternates full and empty, each held past the debounce: one real change each.
    const toggle = (n: number): void => {
      for (let i = 0; i < n; i++) {
        device.source.set(device.sensor.side === 'high' ? 0.02 : 0.95)
        clock.advance(500)
      }
    }
    return { device, clock, toggle }
  }

  const factsOf = (thing: string): { id: string, type: string, seq: number }[] => inbox.messages
    .filter((m) => m.topic.startsWith(`home/kitchen/${thing}/fact/`))
    .map((m) => JSON.parse(m.payload) as { id: string, type: string, seq: number })

  it('delivers all 50 facts recorded while the broker was down, across a device restart, in order and once each', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'homefacts-device-'))
    dirs.push(stateDir)
    gate.down()
    const a = cup('outbox-cup', stateDir)
    a.toggle(25)
    expect(a.device.store.pending()).toBe(26)
    await a.device.stop()
    devices.splice(devices.indexOf(a.device), 1)

    const b = cup('outbox-cup', stateDir)
    b.toggle(25)
    gate.up()
    await inbox.wait((m) => m.topic === 'home/kitchen/outbox-cup/state' && (JSON.parse(m.payload) as { seq: number }).seq === 50, 1, 10_000)
    const facts = factsOf('outbox-cup')
    expect(facts.map((f) => f.seq)).toStrictEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    expect(facts.map((f) => f.type)).toStrictEqual(Array.from({ length: 50 }, (_, i) => i % 2 === 0 ? 'cup.filled' : 'cup.empty'))
    expect(new Set(facts.map((f) => f.id)).size).toBe(50)
    // Only the newest state waited in the outbox; older ones were superseded before sending.
    expect(inbox.on('home/kitchen/outbox-cup/state').map((m) => [(JSON.parse(m.payload) as { seq: number }).seq, m.retain])).toStrictEqual([[50, true]])
    await b.device.publisher.drained()
    expect(b.device.store.pending()).toBe(0)
  })

  it('drops the oldest messages past its bound, and says so in the log', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'homefacts-device-'))
    dirs.push(stateDir)
    const lines: { msg: string, topic?: string, bound?: number }[] = []
    const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s) as { msg: string }) })
    gate.down()
    const c = cup('bounded-cup', stateDir, { maxOutbox: 10, log })
    c.toggle(15)
    // 15 facts and one (coalesced) state is 16 rows: the 6 oldest facts go.
    const dropped = lines.filter((l) => l.msg.startsWith('outbox full'))
    expect(dropped.map((l) => [l.topic, l.bound])).toStrictEqual(Array.from({ length: 6 }, (_, i) => [`home/kitchen/bounded-cup/fact/${i % 2 === 0 ? 'filled' : 'empty'}`, 10]))
    gate.up()
    await inbox.wait((m) => m.topic === 'home/kitchen/bounded-cup/state', 1, 10_000)
    expect(factsOf('bounded-cup').map((f) => f.seq)).toStrictEqual([7, 8, 9, 10, 11, 12, 13, 14, 15])
  })
})
