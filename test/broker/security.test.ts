import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox, publishAck, subscribeCodes } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'
import { makeFact } from '#client'

describe('authentication and the ACL', () => {
  let t: TestHub
  let admin: MqttClient
  let inbox: Inbox
  beforeAll(async () => {
    t = await startTestHub({ anonymous: true })
    const ops = await t.addUser({ username: 'ops', role: 'admin' })
    admin = await connect(t.mqttUrl, { ...ops, clientId: 'ops' })
    inbox = new Inbox(admin)
    await admin.subscribeAsync(['home/#', 'household/#', 'homefacts/deadletter/#'], { qos: 1 })
  })
  afterAll(async () => {
    await admin?.endAsync()
    await t?.stop()
  })

  it('refuses a wrong password with CONNACK 4 (3.1.1) and reason 0x86 (5)', async () => {
    await t.addUser({ username: 'daddy-phone', role: 'member', member: 'daddy', password: 'right' })
    await expect(connect(t.mqttUrl, { username: 'daddy-phone', password: 'wrong', protocolVersion: 4 })).rejects.toMatchObject({ code: 4 })
    await expect(connect(t.mqttUrl, { username: 'daddy-phone', password: 'wrong', protocolVersion: 5 })).rejects.toMatchObject({ code: 0x86 })
    const ok = await connect(t.mqttUrl, { username: 'daddy-phone', password: 'right' })
    expect(ok.connected).toBe(true)
    await ok.endAsync()
  })

  it('refuses an unknown user and a client with no credentials on the main listener', async () => {
    await expect(connect(t.mqttUrl, { username: 'nobody', password: 'x' })).rejects.toMatchObject({ code: 4 })
    await expect(connect(t.mqttUrl, {})).rejects.toMatchObject({ code: 4 })
  })

  it('lets clients in without credentials only on the opt-in anonymous listener', async () => {
    const anon = await connect(t.anonymousUrl, { clientId: 'anon-test' })
    const fact = JSON.stringify(cupEmpty(1, 'garden', 'watering-can'))
    await anon.publishAsync('home/garden/watering-can/fact/empty', fact, { qos: 1 })
    await inbox.wait((m) => m.payload === fact)
    await anon.endAsync()
  })

  it('lets a user added while the hub runs log in at once', async () => {
    const later = await t.addUser({ username: 'grandma-phone', role: 'member', member: 'grandma' })
    const c = await connect(t.mqttUrl, later)
    expect(c.connected).toBe(true)
    await c.endAsync()
  })

  it('keeps the last good users when the users file is broken while the hub runs', async () => {
    const creds = await t.addUser({ username: 'steady', role: 'service' })
    const path = join(t.dir, 'users.json')
    const good = readFileSync(path, 'utf8')
    writeFileSync(path, '{ "users": [ oops')
    const c = await connect(t.mqttUrl, creds)
    expect(c.connected).toBe(true)
    await c.endAsync()
    await expect(connect(t.mqttUrl, { username: 'steady', password: 'wrong' })).rejects.toMatchObject({ code: 4 })
    writeFileSync(path, good)
  })

  it('keeps a device to its own subtree: publishing elsewhere is dead-lettered, not delivered', async () => {
    const creds = await t.addUser({ username: 'hall-door', role: 'device', things: ['hall/front-door'] })
    const door = await connect(t.mqttUrl, { ...creds, clientId: 'hall-door' })
    await door.publishAsync('home/kitchen/lily-cup/fact/empty', JSON.stringify(cupEmpty(9)), { qos: 1 })
    const [letter] = await inbox.wait('homefacts/deadletter/hall-door')
    expect(JSON.parse(letter!.payload).reason).toStrictEqual({ code: 'HF_NOT_AUTHORIZED', message: 'hall-door may not publish on "home/kitchen/lily-cup/fact/empty"', issues: [] })
    expect(inbox.on('home/kitchen/lily-cup/fact/empty')).toStrictEqual([])
    await door.publishAsync('home/hall/front-door/availability', 'online', { qos: 1, retain: true })
    const [own] = await inbox.wait('home/hall/front-door/availability')
    expect(own).toStrictEqual({ topic: 'home/hall/front-door/availability', payload: 'online', qos: 1, retain: false })
    await door.endAsync()
  })

  it('refuses subscriptions outside the ACL with SUBACK 0x80 (3.1.1) and 0x87 (5)', async () => {
    const creds = await t.addUser({ username: 'cup-sub', role: 'device', things: ['kitchen/lily-cup'] })
    for (const [protocolVersion, code] of [[4, 128], [5, 0x87]] as const) {
      const dev = await connect(t.mqttUrl, { ...creds, clientId: `cup-sub-${protocolVersion}`, protocolVersion })
      expect(await subscribeCodes(dev, ['home/#', 'home/kitchen/lily-cup/#', 'household/mummy/presence'])).toStrictEqual([code, 1, code])
      expect(dev.connected).toBe(true)
      await dev.endAsync()
    }
  })

  it('lets a phone read the house and claim only as its own member', async () => {
    const creds = await t.addUser({ username: 'mummy-phone', role: 'member', member: 'mummy' })
    const phone = await connect(t.mqttUrl, { ...creds, clientId: 'mummy-phone', protocolVersion: 5 })
    expect(await subscribeCodes(phone, ['home/#', 'shop/#', '$SYS/#'])).toStrictEqual([1, 0x87, 0x87])
    const factId = cupEmpty(3).id
    await admin.publishAsync('home/kitchen/lily-cup/state', JSON.stringify({ value: 'empty', seq: 3, since: new Date().toISOString(), factId }), { qos: 1, retain: true })
    const claim = (by: string) => JSON.stringify({ factId, by, at: new Date().toISOString() })
    expect(await publishAck(phone, 'home/kitchen/lily-cup/claim', claim('daddy'), { retain: true })).toStrictEqual({ reasonCode: 0x87, reasonString: 'HF_NOT_AUTHORIZED: a member may only claim as themself ("mummy")' })
    const [letter] = await inbox.wait('homefacts/deadletter/mummy-phone')
    expect(JSON.parse(letter!.payload).reason.code).toBe('HF_NOT_AUTHORIZED')
    await phone.publishAsync('home/kitchen/lily-cup/claim', claim('mummy'), { qos: 1, retain: true })
    const [mine] = await inbox.wait('home/kitchen/lily-cup/claim')
    expect(JSON.parse(mine!.payload).by).toBe('mummy')
    const fact = makeFact('cup.empty', { subject: 'home/kitchen/lily-cup', source: 'phone', seq: 1, data: { level: 0 } })
    expect((await publishAck(phone, 'home/kitchen/lily-cup/fact/empty', JSON.stringify(fact))).reasonCode).toBe(0x87)
    await inbox.wait('homefacts/deadletter/mummy-phone', 2)
    await phone.endAsync()
  })
})
