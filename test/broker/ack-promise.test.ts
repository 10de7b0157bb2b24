import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt'
import { startHubProcess, type HubProcess } from '../helpers/process.ts'
import { connect, connectInbox, Inbox, watchDisconnects } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'
import type { Fact } from '#contract'

const PUBLISHERS = 8
const FACTS = 400
const ROUNDS = 5
/** QoS 1 publishes outside the contract (Home Assistant's topics) are promised the same. */
const PLAIN = 50

/**
 * A PUBACK is a promise: a publish is acknowledged only once it is in the ledger and
 * queued on disk for every persistent session that matches it. The hub is killed with SIGKILL
 * the moment the last PUBACK arrives, with no pause.
 */
describe('an acknowledged fact survives kill -9 right after its PUBACK', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homefacts-ack-'))
  let hub: HubProcess | undefined
  afterAll(() => {
    hub?.proc.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  it(`delivers all ${FACTS} facts of ${PUBLISHERS} publishers and ${PLAIN} plain QoS 1 messages to an offline MQTT 5 session, once each and in order, in each of ${ROUNDS} rounds`, async () => {
    hub = await startHubProcess(dir)
    const session = { ...hub.admin, clientId: 'offline-daddy', clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 3600 } }
    let offline = await watchDisconnects(hub.mqttUrl, hub.admin)
    const first = await connect(hub.mqttUrl, session)
    await first.subscribeAsync(['home/+/+/fact/+', 'homeassistant/#'], { qos: 1 })
    await first.endAsync()
    // Offline at the broker, not only at the client: a publish that met the closing connection
    // would be delivered to it (and could be acknowledged by it) instead of queued.
    await offline.gone(session.clientId)
    const seq = Array.from({ length: PUBLISHERS }, () => 0)
    for (let round = 1; round <= ROUNDS; round++) {
      await offline.client.endAsync()
      const publishers = await Promise.all(Array.from({ length: PUBLISHERS }, (_, p) => connect(hub!.mqttUrl, { ...hub!.admin, clientId: `pub-${p}`, protocolVersion: 5 })))
      const acked: Fact[] = []
      const ackedPlain: string[] = []
      let acks = 0
      const lastAck = new Promise<void>((resolve, reject) => {
        for (let p = 0; p < PUBLISHERS; p++) {
          for (let i = 0; i < FACTS / PUBLISHERS; i++) {
            const fact = cupEmpty(++seq[p]!, 'kitchen', `cup-${p}`)
            publishers[p]!.publish(`home/kitchen/cup-${p}/fact/empty`, JSON.stringify(fact), { qos: 1 }, (err) => {
              if (err) return reject(err)
              acked.push(fact)
              // The moment the last PUBACK is in: no pause before the kill.
              if (++acks === FACTS + PLAIN) {
                hub!.proc.kill('SIGKILL')
                resolve()
              }
            })
          }
        }
        for (let i = 0; i < PLAIN; i++) {
          const payload = `${round}-${i}`
          publishers[0]!.publish('homeassistant/sensor/cup-0/state', payload, { qos: 1 }, (err) => {
            if (err) return reject(err)
            ackedPlain.push(payload)
            if (++acks === FACTS + PLAIN) {
              hub!.proc.kill('SIGKILL')
              resolve()
            }
          })
        }
      })
      await lastAck
      expect(await hub.exited).toBe('SIGKILL')
      for (const c of publishers) c.end(true)
      hub = await startHubProcess(dir)
      offline = await watchDisconnects(hub.mqttUrl, hub.admin)

      const { client: back, inbox } = await connectInbox(hub.mqttUrl, session)
      await inbox.wait((m) => m.topic.endsWith('/fact/empty'), FACTS, 20_000)
      await inbox.wait('homeassistant/sensor/cup-0/state', PLAIN, 20_000)
      // A marker queued behind the backlog: once it is in, nothing more of the backlog can come.
      const marker = cupEmpty(1, 'hall', `marker-${round}`)
      const admin = await connect(hub.mqttUrl, hub.admin)
      await admin.publishAsync(`home/hall/marker-${round}/fact/empty`, JSON.stringify(marker), { qos: 1 })
      await inbox.wait((m) => m.topic === `home/hall/marker-${round}/fact/empty`)
      await admin.endAsync()
      await back.endAsync()
      await offline.gone(session.clientId)

      expect(inbox.on('homeassistant/sensor/cup-0/state').map((m) => m.payload)).toStrictEqual(ackedPlain)
      const got = inbox.messages.filter((m) => m.topic.startsWith('home/kitchen/')).map((m) => JSON.parse(m.payload) as Fact)
      expect(got.map((f) => f.id).sort()).toStrictEqual(acked.map((f) => f.id).sort())
      for (let p = 0; p < PUBLISHERS; p++) {
        const mine = got.filter((f) => f.subject === `home/kitchen/cup-${p}`).map((f) => f.seq)
        expect(mine).toStrictEqual(acked.filter((f) => f.subject === `home/kitchen/cup-${p}`).map((f) => f.seq).sort((a, b) => a - b))
      }
    }
    await offline.client.endAsync()
    hub.proc.kill('SIGTERM')
    expect(await hub.exited).toBe(0)
    hub = undefined
  }, 180_000)
})

/** [MQTT-3.1.2-4], [MQTT-3.1.2-6]: a clean session discards the stored one, queued messages included. */
describe('a clean session really starts clean', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homefacts-clean-'))
  let hub: HubProcess | undefined
  afterAll(() => {
    hub?.proc.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  for (const [protocolVersion, clean] of [[4, { clean: true }], [5, { clean: true, properties: { sessionExpiryInterval: 0 } }]] as const) {
    it(`drops the old queue of a client that connects once clean (MQTT ${protocolVersion === 4 ? '3.1.1 clean: true' : '5 Clean Start 1, Session Expiry 0'})`, async () => {
      hub ??= await startHubProcess(dir)
      const clientId = `phone-v${protocolVersion}`
      // Each reconnect waits until the broker has closed the connection before it ($SYS says so),
      // so every CONNECT meets a stored session, not one still being taken over.
      const sys = await connect(hub.mqttUrl, hub.admin)
      const sysInbox = new Inbox(sys)
      await sys.subscribeAsync('$SYS/+/disconnect/clients', { qos: 0 })
      const gone = (n: number) => sysInbox.wait((m) => m.payload === clientId, n)
      const persistent = { ...hub.admin, clientId, protocolVersion, clean: false, ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}) }
      const s = await connect(hub.mqttUrl, persistent)
      await s.subscribeAsync(`home/study/desk-v${protocolVersion}/fact/+`, { qos: 1 })
      await s.endAsync()
      await gone(1)
      const pub = await connect(hub.mqttUrl, hub.admin)
      const old = cupEmpty(1, 'study', `desk-v${protocolVersion}`)
      await pub.publishAsync(`home/study/desk-v${protocolVersion}/fact/empty`, JSON.stringify(old), { qos: 1 })

      const once = await connectWithAck(hub.mqttUrl, { ...hub.admin, clientId, protocolVersion, ...clean })
      expect(once.sessionPresent).toBe(false)
      await once.client.endAsync()
      await gone(2)

      const again = await connectWithAck(hub.mqttUrl, persistent)
      expect(again.sessionPresent).toBe(false)
      const inbox = again.inbox
      await again.client.subscribeAsync(`home/study/desk-v${protocolVersion}/fact/+`, { qos: 1 })
      const fresh = cupEmpty(2, 'study', `desk-v${protocolVersion}`)
      await pub.publishAsync(`home/study/desk-v${protocolVersion}/fact/empty`, JSON.stringify(fresh), { qos: 1 })
      await inbox.wait(`home/study/desk-v${protocolVersion}/fact/empty`)
      // Queued delivery comes first on a connection, so the old fact would have been ahead of the new one.
      expect(inbox.messages.map((m) => JSON.parse(m.payload).id)).toStrictEqual([fresh.id])
      expect(once.inbox.messages).toStrictEqual([])
      await again.client.endAsync()
      await pub.endAsync()
      await sys.endAsync()
    })
  }
})

/** Connects with an inbox already listening (queued messages follow CONNACK at once), and returns CONNACK's session flag. */
async function connectWithAck (url: string, opts: IClientOptions): Promise<{ client: MqttClient, inbox: Inbox, sessionPresent: boolean }> {
  const client = mqtt.connect(url, { ...opts, reconnectPeriod: 0 })
  const inbox = new Inbox(client)
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve)
    client.once('error', reject)
  })
  return { client, inbox, sessionPresent: connack.sessionPresent }
}
