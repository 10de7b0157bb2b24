import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect } from '../helpers/mqtt.ts'
import { cupEmpty, cupFilled } from '../helpers/facts.ts'
import type { Fact } from '#contract'

describe('the fact ledger and its replay API', () => {
  let t: TestHub
  let svc: MqttClient
  let auth: string
  const facts: Fact[] = [cupEmpty(1), cupEmpty(1, 'hall', 'guest-cup'), cupFilled(2), cupEmpty(3), cupFilled(2, 'hall', 'guest-cup')]
  const get = async (query: string, authorization = auth) => {
    const res = await fetch(`${t.httpUrl}/api/facts${query}`, { headers: { authorization } })
    return { status: res.status, body: await res.json() as { facts: { offset: number, topic: string, fact: Fact }[], next: number } }
  }
  beforeAll(async () => {
    t = await startTestHub()
    const creds = await t.addUser({ username: 'svc', role: 'service' })
    auth = `Basic ${Buffer.from(`svc:${creds.password}`).toString('base64')}`
    svc = await connect(t.mqttUrl, { ...creds, clientId: 'svc' })
    for (const f of facts) await svc.publishAsync(`${f.subject}/fact/${f.type.split('.')[1]}`, JSON.stringify(f), { qos: 1 })
  })
  afterAll(async () => {
    await svc?.endAsync()
    await t?.stop()
  })

  it('has every accepted fact before its PUBACK, in broker order with global offsets', async () => {
    const { status, body } = await get('')
    expect(status).toBe(200)
    expect(body.facts.map((e) => [e.offset, e.fact])).toStrictEqual(facts.map((f, i) => [i + 1, f]))
    expect(body.next).toBe(5)
  })

  it('replays after an offset, with a limit', async () => {
    const { body } = await get('?after=2&limit=2')
    expect(body.facts.map((e) => e.offset)).toStrictEqual([3, 4])
    expect(body.next).toBe(4)
  })

  it('filters by exact topic and by MQTT wildcards', async () => {
    expect((await get('?topic=home/hall/guest-cup/fact/empty')).body.facts.map((e) => e.offset)).toStrictEqual([2])
    expect((await get('?topic=home/hall/%23')).body.facts.map((e) => e.offset)).toStrictEqual([2, 5])
    expect((await get('?topic=home/%2B/%2B/fact/filled')).body.facts.map((e) => e.offset)).toStrictEqual([3, 5])
    expect((await get('?topic=home/kitchen/%2B/fact/filled&after=3')).body.facts).toStrictEqual([])
  })

  it('stores a redelivered fact id once', async () => {
    await svc.publishAsync('home/kitchen/lily-cup/fact/empty', JSON.stringify(facts[0]), { qos: 1 })
    expect((await get('')).body.facts).toHaveLength(5)
  })

  it('refuses missing credentials, a wrong password, a forbidden filter and a bad query', async () => {
    expect((await fetch(`${t.httpUrl}/api/facts`)).status).toBe(401)
    expect((await get('', `Basic ${Buffer.from('svc:nope').toString('base64')}`)).status).toBe(401)
    const phone = await t.addUser({ username: 'phone', role: 'member', member: 'lily' })
    const phoneAuth = `Basic ${Buffer.from(`phone:${phone.password}`).toString('base64')}`
    expect((await get('?topic=shop/%23', phoneAuth)).status).toBe(403)
    expect((await get('?topic=home/%23', phoneAuth)).body.facts).toHaveLength(5)
    const bad = await get('?after=-1&limit=0')
    expect(bad.status).toBe(400)
  })

  it('streams the backlog and then new facts as NDJSON in follow mode', async () => {
    const ac = new AbortController()
    const res = await fetch(`${t.httpUrl}/api/facts?after=3&follow=true&topic=home/kitchen/%23`, { headers: { authorization: auth }, signal: ac.signal })
    expect(res.headers.get('content-type')).toBe('application/x-ndjson')
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    const nextLine = async (): Promise<{ offset: number, fact: Fact }> => {
      while (!buffer.includes('\n')) {
        const { value, done } = await reader.read()
        if (done) throw new Error('stream ended')
        buffer += value
      }
      const i = buffer.indexOf('\n')
      const line = buffer.slice(0, i)
      buffer = buffer.slice(i + 1)
      return JSON.parse(line)
    }
    expect((await nextLine()).offset).toBe(4)
    const live = [cupEmpty(4, 'hall', 'guest-cup'), cupEmpty(5)]
    for (const f of live) await svc.publishAsync(`${f.subject}/fact/empty`, JSON.stringify(f), { qos: 1 })
    const next = await nextLine()
    expect(next).toMatchObject({ offset: 7, fact: live[1] })
    ac.abort()
  })
})
