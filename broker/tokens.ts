import { createHmac, timingSafeEqual } from 'node:crypto'

const PREFIX = 'hft1.'

/**
 * Short-lived MQTT passwords for the web app, which never keeps a member's password: `hft1.<payload>.<mac>`,
 * the payload naming the user and the expiry, vouched for by an HMAC-SHA256 under the hub's secret.
 * The secret outlives restarts, so a page that reconnects after one gets in while its token lasts.
 */
export class MqttTokens {
  readonly ttlMs: number
  #secret: () => Buffer
  #key: Buffer | null = null
  #now: () => number

  /** @param secret the HMAC key, or a function that reads it on first use (constructors do no I/O). */
  constructor (secret: Buffer | (() => Buffer), ttlMs: number, now: () => number = Date.now) {
    this.#secret = typeof secret === 'function' ? secret : () => secret
    this.ttlMs = ttlMs
    this.#now = now
  }

  /** A token for `username`, valid for `ttlMs` from now. */
  issue (username: string): { token: string, expiresAt: Date } {
    const exp = this.#now() + this.ttlMs
    const payload = Buffer.from(JSON.stringify({ u: username, exp })).toString('base64url')
    return { token: `${PREFIX}${payload}.${this.#mac(payload)}`, expiresAt: new Date(exp) }
  }

  /** True when `password` looks like a token (so the users file is not asked). */
  static isToken (password: string): boolean {
    return password.startsWith(PREFIX)
  }

  /** True when the token is ours, names `username` and has not expired. */
  verify (username: string, token: string): boolean {
    if (!MqttTokens.isToken(token)) return false
    const dot = token.lastIndexOf('.')
    if (dot <= PREFIX.length) return false
    const payload = token.slice(PREFIX.length, dot)
    // As text: base64url's last character has spare bits, so decoded bytes would accept it changed.
    const mac = Buffer.from(token.slice(dot + 1))
    const expected = Buffer.from(this.#mac(payload))
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return false
    try {
      const { u, exp } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { u?: unknown, exp?: unknown }
      return u === username && typeof exp === 'number' && exp > this.#now()
    } catch {
      return false
    }
  }

  #mac (payload: string): string {
    if (!this.#key) {
      const key = this.#secret()
      if (key.length < 16) throw new Error('the token secret needs at least 16 bytes')
      this.#key = key
    }
    return createHmac('sha256', this.#key).update(payload).digest('base64url')
  }
}
