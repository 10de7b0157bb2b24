import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const AVAIL = 'home/kitchen/lily-cup/availability'

describe('the device process', () => {
  let t: TestHub
  let watcher: MqttClient
  let inbox: Inbox
  let creds: { username: string, password: string }
  let stateDir: string
  const children: ChildProcess[] = []

  beforeAll(async () => {
    t = await startTestHub({ anonymous: true })
    creds = await t.addUser({ username: 'lily-cup', role: 'device', things: ['kitchen/lily-cup'] })
    stateDir = mkdtempSync(join(tmpdir(), 'homefacts-device-'))
    watcher = await connect(t.anonymousUrl, { protocolVersion: 5 })
    inbox = new Inbox(watcher)
    await watcher.subscribeAsync('home/kitchen/lily-cup/#', { qos: 1, rap: true })
  })
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    await watcher?.endAsync()
    await t?.stop()
    rmSync(stateDir, { recursive: true, force: true })
  })

  /** `homefacts device cup --simulate`, driven through its stdin. */
  async function spawnCup (): Promise<ChildProcess> {
    const online = inbox.messages.filter((m) => m.topic === AVAIL && m.payload === 'online').length
    const child = spawn(process.execPath, [join(ROOT, 'bin/homefacts.js'), 'device', 'cup', '--simulate', '--area', 'kitchen', '--thing', 'lily-cup',
      '--broker', t.mqttUrl, '--username', creds.username, '--password', creds.password, '--state-dir', stateDir, '--debounce-ms', '0', '--no-discovery', '--log-level', 'warn'],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
    children.push(child)
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
    await inbox.wait((m) => m.topic === AVAIL && m.payload === 'online', online + 1, 15_000).catch((err: Error) => {
      throw new Error(`${err.message}\ndevice stderr:\n${stderr}`)
    })
    return child
  }

  /** The facts seen, once per id: a message the killed process sent but never saw acknowledged is sent again. */
  const seqs = (): [string, number][] => {
    const byId = new Map<string, [string, number]>()
    for (const m of inbox.messages.filter((x) => x.topic.includes('/fact/'))) {
      const f = JSON.parse(m.payload) as { id: string, type: string, seq: number }
      byId.set(f.id, [f.type, f.seq])
    }
    return [...byId.values()]
  }

  it('is marked offline by its will when it is killed with SIGKILL, and keeps seq when it comes back', async () => {
    const first = await spawnCup()
    first.stdin!.write('f')
    await inbox.wait((m) => m.topic === 'home/kitchen/lily-cup/state')
    first.kill('SIGKILL')
    const [offline] = await inbox.wait((m) => m.topic === AVAIL && m.payload === 'offline')
    expect(offline).toStrictEqual({ topic: AVAIL, payload: 'offline', qos: 1, retain: true })

    const second = await spawnCup()
    // Still full, as remembered: no fact. Then a real change takes the next seq.
    second.stdin!.write('f')
    second.stdin!.write('e')
    // Wait for the new state itself: the first process's last state may be sent again on restart.
    await inbox.wait((m) => m.topic === 'home/kitchen/lily-cup/state' && JSON.parse(m.payload).value === 'empty')
    expect(seqs()).toStrictEqual([['cup.filled', 1], ['cup.empty', 2]])
    const exited = new Promise((resolve) => second.once('exit', resolve))
    second.kill('SIGTERM')
    // A clean stop says offline itself (a clean disconnect discards the will), then exits 0.
    const [, again] = await inbox.wait((m) => m.topic === AVAIL && m.payload === 'offline', 2)
    expect(again).toStrictEqual({ topic: AVAIL, payload: 'offline', qos: 1, retain: true })
    expect(await exited).toBe(0)
  }, 60_000)
})
