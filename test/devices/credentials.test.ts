import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { pino } from 'pino'
import type { HomefactsError } from '#contract'
import { Device } from '../../devices/device.ts'
import { ThingEntry, toSpec } from '../../devices/spec.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { BIN, runCli } from '../helpers/process.ts'
import { FakeClock } from './fake-clock.ts'

const REFUSED = 'the broker refused the device credentials for user "lily-cup"'

describe('a device the broker does not let in', () => {
  let t: TestHub
  let watcher: MqttClient
  let inbox: Inbox
  const dirs: string[] = []
  const devices: Device[] = []
  const children: ChildProcess[] = []

  beforeAll(async () => {
    t = await startTestHub({ anonymous: true })
    await t.addUser({ username: 'lily-cup', role: 'device', things: ['kitchen/lily-cup'], password: 'the-old-password' })
    watcher = await connect(t.anonymousUrl, { protocolVersion: 5 })
    inbox = new Inbox(watcher)
    await watcher.subscribeAsync('home/kitchen/#', { qos: 1, rap: true })
  })
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    for (const d of devices) await d.stop()
    await watcher?.endAsync()
    await t?.stop()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it('keeps trying with a doubling backoff, names the user in each refusal, and delivers its outbox once the password is fixed', async () => {
    const lines: { level: number, time: number, msg: string, attempt?: number, username?: string }[] = []
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number, time: number, msg: string }) })
    const clock = new FakeClock()
    const spec = toSpec(ThingEntry.parse({ kind: 'cup', area: 'kitchen', thing: 'lily-cup' }), true)
    const device = new Device({ spec, broker: { url: t.mqttUrl, username: 'lily-cup', password: 'the-new-password', backoff: { minMs: 50, maxMs: 400 } }, stateDir: ':memory:', log, clock, discovery: false })
    devices.push(device)
    const refusals: HomefactsError[] = []
    device.publisher.on('refused', (err) => refusals.push(err))
    const fifth = new Promise<void>((resolve) => {
      const check = (): void => { if (refusals.length >= 5) resolve() }
      device.publisher.on('refused', check)
    })
    device.start()
    // A fact while the broker refuses: it waits in the outbox.
    device.source.set(0.95)
    clock.advance(500)
    await fifth
    expect(device.publisher.everConnected).toBe(false)
    expect(device.store.pending()).toBe(2)
    expect(new Set(refusals.map((e) => e.code))).toStrictEqual(new Set(['HF_BAD_CREDENTIALS']))
    expect(refusals[0]!.message).toBe(REFUSED)
    const errors = lines.filter((l) => l.level === 50)
    expect(errors.slice(0, 5).map((l) => [l.msg, l.username])).toStrictEqual(Array(5).fill([`${REFUSED}; check --username/--password and "homefacts users list"; trying again`, 'lily-cup']))
    expect(errors.slice(0, 5).map((l) => l.attempt)).toStrictEqual([1, 2, 3, 4, 5])
    // At least 50, 100, 200, 400 ms between attempts: the pause doubles up to the cap.
    const gaps = errors.slice(1, 5).map((l, i) => l.time - errors[i]!.time)
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(Math.min(400, 50 * 2 ** i) - 1))
    // A refusal is not mistaken for an unreachable broker.
    expect(lines.filter((l) => l.msg.startsWith('broker unreachable'))).toStrictEqual([])

    // The admin gives the device user the password the device has; the running hub re-reads the users file.
    const fix = await runCli(['users', 'add', 'lily-cup', '--role', 'device', '--thing', 'kitchen/lily-cup', '--password', 'the-new-password', '--data-dir', t.dir])
    expect(fix.code).toBe(0)
    const [state] = await inbox.wait('home/kitchen/lily-cup/state', 1, 10_000)
    expect(JSON.parse(state!.payload)).toMatchObject({ value: 'full', seq: 1 })
    const [fact] = inbox.on('home/kitchen/lily-cup/fact/filled')
    expect(fact).toMatchObject({ qos: 1, retain: false })
    expect(JSON.parse(fact!.payload)).toMatchObject({ type: 'cup.filled', seq: 1, subject: 'home/kitchen/lily-cup' })
    await device.publisher.drained()
    expect(device.store.pending()).toBe(0)
    expect(device.publisher.everConnected).toBe(true)
    expect(device.publisher.refusal).toBeUndefined()
    await device.stop()
    devices.splice(devices.indexOf(device), 1)
  }, 30_000)

  /** `homefacts device cup --simulate`; `logged` resolves once `n` of its JSON log lines start with `match`. */
  function spawnCup (broker: string, password: string): { child: ChildProcess, logged: (match: string, n: number) => Promise<void>, exited: Promise<number | null>, stderr: () => string } {
    const stateDir = mkdtempSync(join(tmpdir(), 'homefacts-device-'))
    dirs.push(stateDir)
    const child = spawn(process.execPath, [BIN, 'device', 'cup', '--simulate', '--area', 'kitchen', '--thing', 'lily-cup',
      '--broker', broker, '--username', 'lily-cup', '--password', password, '--state-dir', stateDir, '--no-discovery', '--log-level', 'info'],
    { stdio: ['pipe', 'pipe', 'pipe'] })
    children.push(child)
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const seen: string[] = []
    const waiters: (() => void)[] = []
    createInterface({ input: child.stdout! }).on('line', (line) => {
      seen.push(line)
      for (const w of waiters) w()
    })
    const logged = (match: string, n: number): Promise<void> => new Promise((resolve, reject) => {
      const check = (): void => { if (seen.filter((l) => l.startsWith('{') && (JSON.parse(l) as { msg: string }).msg.startsWith(match)).length >= n) resolve() }
      waiters.push(check)
      check()
      void exited.then((code) => reject(new Error(`device exited (${code}) before logging ${n} × ${match}:\n${seen.join('\n')}\n${stderr}`)))
    })
    return { child, logged, exited, stderr: () => stderr }
  }

  it('exits 1 and says why when it is stopped before the broker ever let it in', async () => {
    const cup = spawnCup(t.mqttUrl, 'a-wrong-password')
    // Two refusals: it tried again after the first one (1 s later).
    await cup.logged(REFUSED, 2)
    cup.child.kill('SIGTERM')
    expect(await cup.exited).toBe(1)
    expect(cup.stderr()).toBe(`homefacts: kitchen/lily-cup never connected: ${REFUSED}; 0 messages wait in the outbox\n`)
  }, 30_000)

  it('exits 1 when it is stopped before the broker was ever reachable', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const url = `mqtt://127.0.0.1:${(closed.address() as AddressInfo).port}`
    await new Promise((resolve) => closed.close(resolve))
    const cup = spawnCup(url, 'any')
    await cup.logged('broker unreachable; facts wait in the outbox', 2)
    cup.child.kill('SIGINT')
    expect(await cup.exited).toBe(1)
    expect(cup.stderr()).toBe(`homefacts: kitchen/lily-cup never connected: the broker at ${url} was unreachable; 0 messages wait in the outbox\n`)
  }, 30_000)
})
