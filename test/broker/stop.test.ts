import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startHubProcess } from '../helpers/process.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'

describe('stopping the hub', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homefacts-stop-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('on SIGINT writes the wills of the clients it closes before its store closes, and logs no error', async () => {
    const hub = await startHubProcess(dir)
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => connect(hub.mqttUrl, {
      ...hub.admin,
      protocolVersion: i % 2 ? 5 : 4,
      clientId: `willing-${i}`,
      clean: i % 3 !== 0,
      ...(i % 3 === 0 && i % 2 ? { properties: { sessionExpiryInterval: 600 } } : {}),
      will: { topic: `lab/will/${i}`, payload: Buffer.from('offline'), qos: 1, retain: true }
    })))
    for (const c of clients) c.on('error', () => {})
    hub.proc.kill('SIGINT')
    expect(await hub.exited).toBe(0)
    const lines = hub.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number, msg: string })
    expect(lines.filter((l) => l.level >= 40)).toStrictEqual([])
    expect(lines.at(-1)?.msg).toBe('hub stopped')
    for (const c of clients) c.end(true)

    const again = await startHubProcess(dir)
    const reader = await connect(again.mqttUrl, again.admin)
    const inbox = new Inbox(reader)
    await reader.subscribeAsync('lab/will/+', { qos: 1 })
    const wills = await inbox.wait((m) => m.topic.startsWith('lab/will/'), 20)
    expect(wills.map((m) => [m.topic, m.payload, m.retain]).sort()).toStrictEqual(Array.from({ length: 20 }, (_, i) => [`lab/will/${i}`, 'offline', true]).sort())
    await reader.endAsync()
    again.proc.kill('SIGTERM')
    expect(await again.exited).toBe(0)
  }, 60_000)
})
