import { afterEach, describe, expect, it } from 'vitest'
import { notifyFactTopic, notifySubject, memberFactTopic, memberSubject } from '#contract'
import { makeFact } from '#client'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, publishAck } from '../helpers/mqtt.ts'
import { TestCup } from '../household/world.ts'
import { PhonesConfig, phonesService } from '../../services/phones/index.ts'

let hubs: TestHub[] = []
afterEach(async () => {
  for (const t of hubs.reverse()) await t.stop()
  hubs = []
})

async function hub (opts: Parameters<typeof startTestHub>[0] = {}): Promise<TestHub> {
  const t = await startTestHub({ file: { household: { members: [{ name: 'mummy' }, { name: 'daddy' }] } }, services: [phonesService], ...opts })
  hubs.push(t)
  return t
}

async function post (t: TestHub, path: string, body: unknown, cookie?: string): Promise<Response> {
  return fetch(`${t.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body: JSON.stringify(body) })
}

const cookieOf = (res: Response): string => res.headers.get('set-cookie')!.split(';')[0]!

describe('web app login', () => {
  it('gives a member an HTTP-only session cookie and an MQTT token, and refuses a wrong password', async () => {
    const t = await hub()
    const mummy = await t.addUser({ username: 'mummy', role: 'member', member: 'mummy' })
    const wrong = await post(t, '/api/login', { username: 'mummy', password: 'nope' })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('set-cookie')).toBeNull()
    expect(await wrong.json()).toStrictEqual({ error: 'HF_BAD_LOGIN', message: 'wrong user name or password' })

    const ok = await post(t, '/api/login', mummy)
    expect(ok.status).toBe(200)
    const setCookie = ok.headers.get('set-cookie')!
    expect(setCookie).toMatch(/^hf_session=[\w-]{43}; Max-Age=2592000; Path=\/; HttpOnly; SameSite=Strict$/)
    const body = await ok.json() as { username: string, member: string, mqtt: { path: string, username: string, password: string, expiresAt: string } }
    expect(body).toMatchObject({ username: 'mummy', member: 'mummy', mqtt: { path: '/mqtt', username: 'mummy' } })
    expect(body.mqtt.password).not.toBe(mummy.password)
    expect(Date.parse(body.mqtt.expiresAt) - Date.now()).toBeGreaterThan(9 * 60_000)

    const session = await fetch(`${t.httpUrl}/api/session`, { headers: { cookie: cookieOf(ok) } })
    expect(session.status).toBe(200)
    expect(await session.json()).toMatchObject({ username: 'mummy', member: 'mummy' })
    expect((await fetch(`${t.httpUrl}/api/session`)).status).toBe(401)
  })

  it('refuses a hub user who is not a household member', async () => {
    const t = await hub()
    const admin = await t.addUser({ username: 'root', role: 'admin' })
    const res = await post(t, '/api/login', admin)
    expect(res.status).toBe(403)
    expect((await res.json() as { error: string }).error).toBe('HF_NOT_A_MEMBER')
  })

  it('rate-limits logins for a user name, even when the right password comes next, until the window has passed', async () => {
    const t = await hub({ file: { household: { members: [{ name: 'mummy' }, { name: 'daddy' }] }, phones: PhonesConfig.parse({ maxLoginFailures: 3, loginWindowSeconds: 2 }) } })
    const mummy = await t.addUser({ username: 'mummy', role: 'member', member: 'mummy' })
    const daddy = await t.addUser({ username: 'daddy', role: 'member', member: 'daddy' })
    for (let i = 0; i < 3; i++) expect((await post(t, '/api/login', { username: 'mummy', password: `guess-${i}` })).status).toBe(401)
    const throttled = await post(t, '/api/login', mummy)
    expect(throttled.status).toBe(429)
    const wait = Number(throttled.headers.get('retry-after'))
    expect(wait).toBeGreaterThanOrEqual(1)
    expect(wait).toBeLessThanOrEqual(2)
    expect(await throttled.json()).toStrictEqual({ statusCode: 429, error: 'HF_LOGIN_THROTTLED', message: `too many logins; try again in ${wait} s`, retryAfterSeconds: wait })
    // Another user name is not held back.
    expect((await post(t, '/api/login', daddy)).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, wait * 1000 + 100))
    expect((await post(t, '/api/login', mummy)).status).toBe(200)
  })

  it('keeps a session across a hub restart', async () => {
    const t = await hub()
    const mummy = await t.addUser({ username: 'mummy', role: 'member', member: 'mummy' })
    const cookie = cookieOf(await post(t, '/api/login', mummy))
    await t.hub.stop()
    hubs = hubs.filter((h) => h !== t)
    const again = await hub({ dir: t.dir })
    const res = await fetch(`${again.httpUrl}/api/session`, { headers: { cookie } })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ username: 'mummy', member: 'mummy' })
    const out = await post(again, '/api/logout', {}, cookie)
    expect(out.status).toBe(204)
    expect((await fetch(`${again.httpUrl}/api/session`, { headers: { cookie } })).status).toBe(401)
  })
})

describe('the MQTT token', () => {
  it('lets the page connect as the member over WebSocket, and the broker lets it claim only as itself', async () => {
    const t = await hub()
    const mummy = await t.addUser({ username: 'mummy', role: 'member', member: 'mummy' })
    const dev = await t.addUser({ username: 'cups', role: 'device', things: ['kitchen/+'] })
    const { mqtt } = await (await post(t, '/api/login', mummy)).json() as { mqtt: { username: string, password: string } }
    const page = await connect(t.wsUrl, { username: mqtt.username, password: mqtt.password, protocolVersion: 5, clientId: 'phone-mummy-1' })
    const device = await connect(t.mqttUrl, { ...dev, protocolVersion: 5, clientId: 'cups' })
    const empty = await new TestCup(device).empty()
    const claim = (by: string) => JSON.stringify({ factId: empty.id, by, at: new Date().toISOString() })
    expect((await publishAck(page, 'home/kitchen/lily-cup/claim', claim('daddy'), { retain: true })).reasonCode).toBe(0x87)
    expect((await publishAck(page, 'home/kitchen/lily-cup/claim', claim('mummy'), { retain: true })).reasonCode).toBe(0)
    expect(JSON.parse(String(await t.hub.broker.retained('home/kitchen/lily-cup/claim')))).toMatchObject({ factId: empty.id, by: 'mummy' })
    await Promise.all([page.endAsync(), device.endAsync()])
  })

  it('is refused for another user name and is no password anywhere else', async () => {
    const t = await hub()
    const mummy = await t.addUser({ username: 'mummy', role: 'member', member: 'mummy' })
    await t.addUser({ username: 'daddy', role: 'member', member: 'daddy' })
    const { mqtt } = await (await post(t, '/api/login', mummy)).json() as { mqtt: { password: string } }
    await expect(connect(t.mqttUrl, { username: 'daddy', password: mqtt.password, protocolVersion: 5 })).rejects.toMatchObject({ code: 134 })
    const tampered = mqtt.password.slice(0, -2) + (mqtt.password.endsWith('A') ? 'BB' : 'AA')
    await expect(connect(t.mqttUrl, { username: 'mummy', password: tampered, protocolVersion: 5 })).rejects.toMatchObject({ code: 134 })
    expect((await post(t, '/api/login', { username: 'mummy', password: mqtt.password })).status).toBe(401)
  })
})

describe('the trace view', () => {
  it('follows causationid from a fact through decisions and notifications to its resolution', async () => {
    const t = await hub()
    const mummy = await t.addUser({ username: 'mummy', role: 'member', member: 'mummy' })
    const dev = await t.addUser({ username: 'cups', role: 'device', things: ['kitchen/+'] })
    const svc = await t.addUser({ username: 'svc', role: 'service' })
    const device = await connect(t.mqttUrl, { ...dev, protocolVersion: 5, clientId: 'cups' })
    const service = await connect(t.mqttUrl, { ...svc, protocolVersion: 5, clientId: 'svc' })
    const cup = new TestCup(device)
    const empty = await cup.empty()
    const escalated = makeFact('household.escalated', {
      subject: memberSubject('mummy'), source: 'services/household/mummy', seq: 1, causationid: empty.id,
      data: { member: 'mummy', factId: empty.id, factType: 'cup.empty', factSeq: empty.seq, subject: cup.subject, step: 1, priority: 'high', due: new Date().toISOString(), detail: 'nobody claimed it' }
    })
    const sent = makeFact('notification.sent', {
      subject: notifySubject('mummy'), source: 'services/phones', seq: 1, causationid: escalated.id,
      data: { recipient: 'mummy', channel: 'ntfy', address: 'http://ntfy.test/mummy', message: 'nobody claimed it', about: { id: empty.id, type: 'cup.empty', subject: cup.subject } }
    })
    const unrelated = makeFact('notification.sent', {
      subject: notifySubject('daddy'), source: 'services/phones', seq: 1, causationid: '01KB0000000000000000000000',
      data: { recipient: 'daddy', channel: 'ntfy', address: 'http://ntfy.test/daddy', message: 'other', about: { id: '01KB0000000000000000000000', type: 'cup.empty', subject: cup.subject } }
    })
    for (const [topic, f] of [[memberFactTopic('mummy', 'escalated'), escalated], [notifyFactTopic('mummy', 'sent'), sent], [notifyFactTopic('daddy', 'sent'), unrelated]] as const) {
      expect((await publishAck(service, topic, JSON.stringify(f))).reasonCode).toBe(0)
    }
    const filled = await cup.filled()
    const cookie = cookieOf(await post(t, '/api/login', mummy))
    const res = await fetch(`${t.httpUrl}/api/trace/${empty.id}`, { headers: { cookie } })
    expect(res.status).toBe(200)
    const trace = await res.json() as { fact: { fact: { id: string } }, steps: { topic: string, fact: { id: string } }[], resolution: { fact: { id: string } } }
    expect(trace.fact.fact.id).toBe(empty.id)
    expect(trace.steps.map((s) => [s.topic, s.fact.id])).toStrictEqual([
      ['household/mummy/fact/escalated', escalated.id],
      ['notify/mummy/fact/sent', sent.id]
    ])
    expect(trace.resolution.fact.id).toBe(filled.id)
    expect((await fetch(`${t.httpUrl}/api/trace/01KB0000000000000000000001`, { headers: { cookie } })).status).toBe(404)
    expect((await fetch(`${t.httpUrl}/api/trace/${empty.id}`)).status).toBe(401)
    await Promise.all([device.endAsync(), service.endAsync()])
  })
})
