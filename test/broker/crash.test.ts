import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startHubProcess, type HubProcess } from '../helpers/process.ts'
import { connect, connectInbox, Inbox, watchDisconnects } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'
import { rawConnect } from '../helpers/raw-mqtt.ts'

describe('durability across kill -9 of the hub process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homefacts-crash-'))
  let hub: HubProcess | undefined
  afterAll(async () => {
    hub?.proc.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  for (const protocolVersion of [4, 5] as const) {
    it(`delivers a clean:false MQTT ${protocolVersion === 4 ? '3.1.1' : '5'} subscriber's QoS 1 backlog after a kill -9 and restart, and keeps the ledger and retained state`, async () => {
      hub = await startHubProcess(dir)
      const admin = hub.admin
      const session = { ...admin, clientId: `daddy-v${protocolVersion}`, clean: false, protocolVersion, ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}) }
      const offline = await watchDisconnects(hub.mqttUrl, admin)
      const daddy = await connect(hub.mqttUrl, session)
      await daddy.subscribeAsync('home/+/+/fact/+', { qos: 1 })
      await daddy.endAsync()
      // Offline at the broker, not only at the client, before the facts it must queue.
      await offline.gone(session.clientId)
      await offline.client.endAsync()

      const cup = await connect(hub.mqttUrl, admin)
      const facts = Array.from({ length: 20 }, (_, i) => cupEmpty(i + 1, 'kitchen', `cup-v${protocolVersion}`))
      for (const f of facts) await cup.publishAsync(`home/kitchen/cup-v${protocolVersion}/fact/empty`, JSON.stringify(f), { qos: 1 })
      const state = JSON.stringify({ value: 'empty', seq: 20, since: facts[19]!.time, factId: facts[19]!.id })
      await cup.publishAsync(`home/kitchen/cup-v${protocolVersion}/state`, state, { qos: 1, retain: true })
      await cup.endAsync()

      hub.proc.kill('SIGKILL')
      expect(await hub.exited).toBe('SIGKILL')
      hub = await startHubProcess(dir)

      const { client: back, inbox } = await connectInbox(hub.mqttUrl, session)
      const got = await inbox.wait((m) => m.topic.endsWith('/fact/empty') && m.topic.includes(`cup-v${protocolVersion}`), 20)
      expect(got.map((m) => JSON.parse(m.payload).id)).toStrictEqual(facts.map((f) => f.id))
      expect(got.every((m) => m.qos === 1 && !m.retain)).toBe(true)
      await back.endAsync()

      const reader = await connect(hub.mqttUrl, admin)
      const readerInbox = new Inbox(reader)
      await reader.subscribeAsync(`home/kitchen/cup-v${protocolVersion}/state`, { qos: 1 })
      const [retained] = await readerInbox.wait(`home/kitchen/cup-v${protocolVersion}/state`)
      expect(retained).toStrictEqual({ topic: `home/kitchen/cup-v${protocolVersion}/state`, payload: state, qos: 1, retain: true })
      await reader.endAsync()

      const res = await fetch(`${hub.httpUrl}/api/facts?topic=home/kitchen/cup-v${protocolVersion}/fact/%2B&limit=100`, { headers: { authorization: `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}` } })
      const body = await res.json() as { facts: { fact: { id: string } }[] }
      expect(body.facts.map((e) => e.fact.id)).toStrictEqual(facts.map((f) => f.id))

      hub.proc.kill('SIGTERM')
      expect(await hub.exited).toBe(0)
      hub = undefined
    })
  }

  it('keeps every message acknowledged before a kill -9: QoS 1 and QoS 2, facts and plain topics, queued for an MQTT 5 session and retained', async () => {
    const qosDir = mkdtempSync(join(tmpdir(), 'homefacts-crash-qos-'))
    try {
      hub = await startHubProcess(qosDir)
      const admin = hub.admin
      const session = { ...admin, clientId: 'keeper', clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 3600 } }
      const offline = await watchDisconnects(hub.mqttUrl, admin)
      const keeper = await connect(hub.mqttUrl, session)
      await keeper.subscribeAsync(['home/+/+/fact/+', 'lab/#'], { qos: 2 })
      await keeper.endAsync()
      await offline.gone('keeper')
      await offline.client.endAsync()
      const pub = await connect(hub.mqttUrl, { ...admin, protocolVersion: 5 })
      const facts = Array.from({ length: 10 }, (_, i) => cupEmpty(i + 1, 'kitchen', 'qos-cup'))
      const sent: string[] = []
      for (const [i, f] of facts.entries()) {
        const qos = i % 2 === 0 ? 1 : 2
        await pub.publishAsync('home/kitchen/qos-cup/fact/empty', JSON.stringify(f), { qos })
        await pub.publishAsync(`lab/plain/${i}`, `plain ${i}`, { qos })
        sent.push(f.id, `plain ${i}`)
      }
      // The last one a QoS 2 retained message: its PUBCOMP is the last thing the hub says.
      await pub.publishAsync('lab/retained', 'kept', { qos: 2, retain: true })
      hub.proc.kill('SIGKILL')
      expect(await hub.exited).toBe('SIGKILL')

      hub = await startHubProcess(qosDir)
      // A raw client, to see the wire's order (mqtt.js hands a QoS 2 message over at its PUBREL).
      const back = await rawConnect(hub.mqttUrl, { cmd: 'connect', protocolVersion: 5, clientId: 'keeper', clean: false, keepalive: 0, username: admin.username, password: Buffer.from(admin.password), properties: { sessionExpiryInterval: 3600 } })
      await back.next((p) => p.topic === 'lab/retained')
      const got = back.received.filter((p) => p.cmd === 'publish' && p.topic !== 'lab/retained')
      expect(got.map((p) => (p.payload as Buffer).toString()).map((text) => text.startsWith('plain') ? text : (JSON.parse(text) as { id: string }).id)).toStrictEqual(sent)
      expect(got.map((p) => p.qos)).toStrictEqual(facts.flatMap((_, i) => i % 2 === 0 ? [1, 1] : [2, 2]))
      back.socket.destroy()
      const reader = await connect(hub.mqttUrl, admin)
      const readerInbox = new Inbox(reader)
      await reader.subscribeAsync('lab/retained', { qos: 2 })
      expect(await readerInbox.wait('lab/retained')).toStrictEqual([{ topic: 'lab/retained', payload: 'kept', qos: 2, retain: true }])
      await reader.endAsync()
      hub.proc.kill('SIGTERM')
      expect(await hub.exited).toBe(0)
      hub = undefined
    } finally {
      rmSync(qosDir, { recursive: true, force: true })
    }
  }, 60_000)

  it('keeps the QoS 1 facts queued for a shared subscription whose members are all away, through a kill -9 right after the last PUBACK', async () => {
    const sharedDir = mkdtempSync(join(tmpdir(), 'homefacts-crash-shared-'))
    try {
      hub = await startHubProcess(sharedDir)
      const admin = hub.admin
      const session = (clientId: string) => ({ ...admin, clientId, clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 3600 } })
      const offline = await watchDisconnects(hub.mqttUrl, admin)
      for (const id of ['replica-1', 'replica-2']) {
        const r = await connect(hub.mqttUrl, session(id))
        await r.subscribeAsync('$share/workers/home/+/+/fact/+', { qos: 1 })
        await r.endAsync()
        await offline.gone(id)
      }
      await offline.client.endAsync()
      const cup = await connect(hub.mqttUrl, admin)
      const facts = Array.from({ length: 20 }, (_, i) => cupEmpty(i + 1, 'kitchen', 'shared-cup'))
      for (const f of facts) await cup.publishAsync('home/kitchen/shared-cup/fact/empty', JSON.stringify(f), { qos: 1 })
      hub.proc.kill('SIGKILL')
      expect(await hub.exited).toBe('SIGKILL')

      hub = await startHubProcess(sharedDir)
      const back = await Promise.all(['replica-1', 'replica-2'].map((id) => connectInbox(hub!.mqttUrl, session(id))))
      const count = (): number => back[0]!.inbox.messages.length + back[1]!.inbox.messages.length
      await expect.poll(count, { timeout: 10_000 }).toBe(20)
      const ids = back.flatMap((r) => r.inbox.messages.map((m) => (JSON.parse(m.payload) as { id: string }).id))
      expect(ids.sort()).toStrictEqual(facts.map((f) => f.id).sort())
      await Promise.all(back.map((r) => r.client.endAsync()))
      hub.proc.kill('SIGTERM')
      expect(await hub.exited).toBe(0)
      hub = undefined
    } finally {
      rmSync(sharedDir, { recursive: true, force: true })
    }
  }, 60_000)
})
