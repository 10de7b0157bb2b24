import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'

let t: TestHub | null = null
afterEach(async () => { await t?.stop(); t = null })

describe('MQTT over TLS', () => {
  it('serves MQTT on its TLS listener with the certificate from the hub\'s CA, to a client that trusts the CA', async () => {
    t = await startTestHub({ flags: { 'mqtts.enabled': true } })
    const url = t.hub.urls.mqtts!
    expect(url).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/)
    const ca = readFileSync(join(t.dir, 'certs', 'ca.crt'))
    const admin = await t.addUser({ username: 'root', role: 'admin' })
    const client = await connect(url, { ...admin, protocolVersion: 5, ca, servername: 'localhost' })
    const inbox = new Inbox(client)
    await client.subscribeAsync('tls/check', { qos: 1 })
    await client.publishAsync('tls/check', 'over TLS', { qos: 1 })
    const [m] = await inbox.wait('tls/check')
    expect(m).toStrictEqual({ topic: 'tls/check', payload: 'over TLS', qos: 1, retain: false })
    await client.endAsync()
  })

  it('is refused by a client that does not trust the hub\'s CA, and asks for credentials over TLS too', async () => {
    t = await startTestHub({ flags: { 'mqtts.enabled': true } })
    const url = t.hub.urls.mqtts!
    await expect(connect(url, { username: 'root', password: 'x', protocolVersion: 5 })).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })
    const ca = readFileSync(join(t.dir, 'certs', 'ca.crt'))
    await expect(connect(url, { username: 'root', password: 'wrong', protocolVersion: 5, ca })).rejects.toMatchObject({ code: 0x86 })
  })
})
