import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { get, Agent } from 'node:https'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect } from '../helpers/mqtt.ts'

let t: TestHub | null = null
afterEach(async () => { await t?.stop(); t = null })

function fetchTls (url: string, ca?: string): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: new Agent(ca ? { ca } : {}) }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode!, body }))
    }).on('error', reject)
  })
}

describe('the hub over HTTPS', () => {
  it('serves the API and MQTT over WSS with a certificate from its own CA, which it hands out at /ca.crt', async () => {
    t = await startTestHub({ flags: { 'https.enabled': true } })
    const https = t.hub.urls.https!
    expect(https).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const ca = readFileSync(join(t.dir, 'certs', 'ca.crt'), 'utf8')
    const health = await fetchTls(`${https}/api/health`, ca)
    expect(health.status).toBe(200)
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' })

    const download = await fetch(`${t.httpUrl}/ca.crt`)
    expect(download.headers.get('content-type')).toBe('application/x-x509-ca-cert')
    expect(new X509Certificate(Buffer.from(await download.arrayBuffer())).fingerprint256).toBe(new X509Certificate(ca).fingerprint256)

    const admin = await t.addUser({ username: 'root', role: 'admin' })
    const wss = await connect(`${https.replace('https', 'wss')}/mqtt`, { ...admin, protocolVersion: 5, ca })
    expect(wss.connected).toBe(true)
    await wss.endAsync()
  })

  it('is refused by a client that does not trust the hub\'s CA', async () => {
    t = await startTestHub({ flags: { 'https.enabled': true } })
    await expect(fetchTls(`${t.hub.urls.https!}/api/health`)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })
  })
})
