import { createDecipheriv, createECDH, createHmac, createPublicKey, randomBytes, verify, type ECDH } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, Agent, type Server } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureCertificates } from '../../../services/hub/certs.ts'
import { Records } from './waiters.ts'

/** One push the local endpoint accepted, decrypted. */
export interface ReceivedPush {
  endpointId: string
  headers: { ttl: string | null, urgency: string | null, topic: string | null }
  /** The VAPID JWT's claims, after its signature was checked. */
  vapid: { aud: string, exp: number, sub: string }
  payload: Record<string, unknown>
}

interface Keys { ecdh: ECDH, auth: Buffer }

const b64 = (b: Buffer): string => b.toString('base64url')
const hmac = (key: Buffer, data: Buffer): Buffer => createHmac('sha256', key).update(data).digest()

/**
 * A local Web Push endpoint, the part of a push service a sender talks to (RFC 8030), over
 * HTTPS with its own CA (`agent` trusts it). Each subscription it makes has a fresh P-256 key
 * pair and auth secret, as a browser's does. It checks each push's VAPID signature (RFC 8292),
 * then decrypts the aes128gcm body (RFC 8291, RFC 8188) with the subscription's private key, so
 * a push encrypted for another key, or not at all, fails.
 */
export class PushReceiver {
  readonly pushes: ReceivedPush[] = []
  readonly errors: string[] = []
  #records = new Records<ReceivedPush>()
  #keys = new Map<string, Keys>()
  #gone = new Set<string>()
  #fail = 0
  #server: Server | null = null
  #dir = mkdtempSync(join(tmpdir(), 'homefacts-push-'))
  #ca = ''
  agent: Agent | null = null

  get origin (): string {
    return `https://127.0.0.1:${(this.#server!.address() as { port: number }).port}`
  }

  async start (): Promise<void> {
    const certs = await ensureCertificates(this.#dir)
    this.#ca = readFileSync(certs.caCert, 'utf8')
    this.agent = new Agent({ ca: this.#ca })
    this.#server = createServer({ cert: readFileSync(certs.cert), key: readFileSync(certs.key) }, (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const id = (req.url ?? '').replace(/^\/push\//, '')
        const answer = (status: number, why?: string): void => {
          if (why) this.errors.push(`${id}: ${why}`)
          res.writeHead(status).end(why ?? '')
        }
        if (this.#gone.has(id)) return answer(410)
        if (this.#fail > 0) { this.#fail--; return answer(500) }
        const keys = this.#keys.get(id)
        if (!keys) return answer(404, 'unknown subscription')
        try {
          const vapid = this.#checkVapid(req.headers.authorization)
          const body = decrypt(Buffer.concat(chunks), keys, req.headers['content-encoding'])
          const push: ReceivedPush = {
            endpointId: id,
            headers: { ttl: (req.headers.ttl as string | undefined) ?? null, urgency: (req.headers.urgency as string | undefined) ?? null, topic: (req.headers.topic as string | undefined) ?? null },
            vapid,
            payload: JSON.parse(body) as Record<string, unknown>
          }
          this.pushes.push(push)
          this.#records.push(push)
          answer(201)
        } catch (err) {
          answer(400, (err as Error).message)
        }
      })
    })
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve))
  }

  /** A new subscription, as `PushSubscription.toJSON()` gives it. */
  subscription (): { endpoint: string, keys: { p256dh: string, auth: string } } {
    const id = b64(randomBytes(9))
    const ecdh = createECDH('prime256v1')
    ecdh.generateKeys()
    const keys = { ecdh, auth: randomBytes(16) }
    this.#keys.set(id, keys)
    return { endpoint: `${this.origin}/push/${id}`, keys: { p256dh: b64(ecdh.getPublicKey()), auth: b64(keys.auth) } }
  }

  /** The push service forgets this subscription: it answers 410 Gone from now on. */
  gone (endpoint: string): void {
    this.#gone.add(endpoint.split('/').pop()!)
  }

  failNext (n: number): void {
    this.#fail = n
  }

  next (test?: (p: ReceivedPush) => boolean, timeoutMs?: number): Promise<ReceivedPush> {
    return this.#records.next(test, timeoutMs)
  }

  /** `Authorization: vapid t=<JWT>, k=<public key>`: an ES256 JWT for this origin, not expired. */
  #checkVapid (header: string | undefined): ReceivedPush['vapid'] {
    const m = /^vapid t=([^,\s]+),\s*k=([^,\s]+)$/.exec(header ?? '')
    if (!m) throw new Error(`no VAPID authorization: ${header}`)
    const [h, p, s] = m[1]!.split('.')
    const raw = Buffer.from(m[2]!, 'base64url')
    const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64(raw.subarray(1, 33)), y: b64(raw.subarray(33, 65)) }, format: 'jwk' })
    if (!verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s!, 'base64url'))) throw new Error('bad VAPID signature')
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as ReceivedPush['vapid']
    if (claims.aud !== this.origin) throw new Error(`VAPID aud ${claims.aud} is not ${this.origin}`)
    if (claims.exp * 1000 < Date.now()) throw new Error('VAPID token expired')
    return claims
  }

  async close (): Promise<void> {
    this.agent?.destroy()
    this.#server?.closeAllConnections()
    await new Promise((resolve) => this.#server ? this.#server.close(resolve) : resolve(undefined))
    rmSync(this.#dir, { recursive: true, force: true })
  }
}

/** RFC 8291 §3.4 and RFC 8188 §2: one aes128gcm record, padded with a 0x02 delimiter. */
function decrypt (body: Buffer, keys: Keys, encoding: string | string[] | undefined): string {
  if (encoding !== 'aes128gcm') throw new Error(`content-encoding ${String(encoding)} is not aes128gcm`)
  const salt = body.subarray(0, 16)
  const idlen = body[20]!
  const senderKey = body.subarray(21, 21 + idlen)
  const ciphertext = body.subarray(21 + idlen)
  const secret = keys.ecdh.computeSecret(senderKey)
  const uaPublic = keys.ecdh.getPublicKey()
  const prkKey = hmac(keys.auth, secret)
  const ikm = hmac(prkKey, Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, senderKey, Buffer.from([1])]))
  const prk = hmac(salt, ikm)
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16)
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12)
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce)
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16))
  const plain = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()])
  let end = plain.length - 1
  while (end >= 0 && plain[end] === 0) end--
  if (plain[end] !== 2) throw new Error('the last record does not end with the 0x02 delimiter')
  return plain.subarray(0, end).toString('utf8')
}
