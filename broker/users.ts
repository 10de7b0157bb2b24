import { randomBytes, scrypt as scryptCb, timingSafeEqual, createHash } from 'node:crypto'
import { readFileSync, statSync, writeFileSync, renameSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { promisify } from 'node:util'
import { z } from 'zod'
import { Codes, HomefactsError, SEGMENT, toIssues } from '#contract'

const scryptNow = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, opts: { N: number, r: number, p: number, maxmem: number }) => Promise<Buffer>

/**
 * At most this many scrypt runs at once, hashes and checks alike. Each holds 128 × N × r bytes
 * (16 MB) while it runs on libuv's pool, so a burst of connections (a reconnect storm, a flood of
 * wrong passwords for many names) adds at most 32 MB to the hub's RSS; the others wait their turn.
 */
export const CONCURRENT_SCRYPT = 2
let running = 0
const waiting: (() => void)[] = []

async function scrypt (...args: Parameters<typeof scryptNow>): Promise<Buffer> {
  if (running >= CONCURRENT_SCRYPT) await new Promise<void>((resolve) => waiting.push(resolve))
  running++
  try {
    return await scryptNow(...args)
  } finally {
    running--
    waiting.shift()?.()
  }
}

export const Role = z.enum(['admin', 'service', 'device', 'member', 'responder', 'shop', 'nodered', 'orders', 'customers', 'notifications', 'homeassistant', 'estate'])
export type Role = z.infer<typeof Role>

/** `area/thing`, where either part may be the single-level wildcard `+`. */
const ThingPattern = z.string().refine((s) => {
  const p = s.split('/')
  return p.length === 2 && p.every((x) => x === '+' || SEGMENT.test(x))
}, 'must be "<area>/<thing>" in kebab-case, either part may be "+"')

export const User = z.object({
  username: z.string().min(1),
  role: Role,
  /** `scrypt$N$r$p$<salt b64>$<hash b64>` */
  password: z.string().startsWith('scrypt$'),
  /** Devices: the things whose subtree they may write. */
  things: z.array(ThingPattern).optional(),
  /** Members and responders: the household member they speak for. */
  member: z.string().regex(SEGMENT).optional(),
  /** Node-RED (`nodered`): the household members its flows may claim as (issue 11). */
  members: z.array(z.string().regex(SEGMENT)).optional()
}).strict()
export type User = z.infer<typeof User>

const UsersFile = z.object({ users: z.array(User) }).strict()

const N = 16384
const R = 8
const P = 1
const KEYLEN = 32
const MAXMEM = 64 * 1024 * 1024

/** Hashes a password with scrypt and a fresh salt. */
export async function hashPassword (password: string): Promise<string> {
  const salt = randomBytes(16)
  const hash = await scrypt(password, salt, KEYLEN, { N, r: R, p: P, maxmem: MAXMEM })
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`
}

/** Checks a password against a stored scrypt hash in constant time. */
export async function verifyPassword (password: string, stored: string): Promise<boolean> {
  const [, n, r, p, salt, hash] = stored.split('$')
  if (!n || !r || !p || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64')
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: MAXMEM })
  return timingSafeEqual(actual, expected)
}

/** A new random password: 18 bytes, URL-safe. */
export const generatePassword = (): string => randomBytes(18).toString('base64url')

/** The identity a connected client carries, set by `authenticate`. */
export type Principal = Omit<User, 'password'>

/**
 * The users file (`<dataDir>/users.json`), hashed with scrypt.
 * It is re-read when its mtime changes, so `homefacts users add` takes effect on a running hub.
 */
export class UserStore {
  readonly path: string
  #mtime = -1
  #users = new Map<string, User>()
  /** sha256(user, password) of recent successful logins, so reconnect storms skip scrypt. */
  #verified = new Map<string, string>()
  /** Checks under way, by that key: the same user and password connecting many times at once share one. */
  #checking = new Map<string, Promise<boolean>>()

  #onBadFile: (err: HomefactsError) => void

  /**
   * @param onBadFile called when the file turns bad while users are already loaded: the last good
   *   users stay in force, so one broken edit does not lock the whole house out.
   */
  constructor (path: string, onBadFile: (err: HomefactsError) => void = () => {}) {
    this.path = path
    this.#onBadFile = onBadFile
  }

  /** Loads the file if it changed. A missing file is an empty store. */
  load (): void {
    try {
      this.#load()
    } catch (err) {
      if (!(err instanceof HomefactsError) || this.#mtime === -1) throw err
      // Keep the last good users; remember this mtime so the bad file is reported once.
      this.#mtime = this.#badMtime
      this.#onBadFile(err)
    }
  }

  #badMtime = -1

  #load (): void {
    let mtime: number
    try {
      mtime = statSync(this.path).mtimeMs
    } catch {
      this.#users.clear()
      this.#mtime = -1
      return
    }
    if (mtime === this.#mtime) return
    this.#badMtime = mtime
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8'))
    } catch (err) {
      throw new HomefactsError(Codes.USERS_FILE, `users file ${this.path} is not valid JSON: ${(err as Error).message}`)
    }
    const r = UsersFile.safeParse(parsed)
    if (!r.success) throw new HomefactsError(Codes.USERS_FILE, `users file ${this.path} is malformed`, toIssues(r.error.issues))
    this.#users = new Map(r.data.users.map((u) => [u.username, u]))
    this.#verified.clear()
    this.#mtime = mtime
  }

  list (): Principal[] {
    this.load()
    return [...this.#users.values()].map(({ password: _password, ...rest }) => rest)
  }

  get (username: string): User | undefined {
    this.load()
    return this.#users.get(username)
  }

  /** Resolves the user when the password is right, otherwise `null`. */
  async authenticate (username: string, password: string): Promise<Principal | null> {
    const user = this.get(username)
    if (!user) return null
    const key = createHash('sha256').update(username).update('\0').update(password).digest('base64')
    if (this.#verified.get(username) !== key) {
      let check = this.#checking.get(key)
      if (!check) {
        check = verifyPassword(password, user.password).finally(() => this.#checking.delete(key))
        this.#checking.set(key, check)
      }
      if (!(await check)) return null
      // The users file may have changed meanwhile: only the password it holds now counts.
      if (this.get(username)?.password !== user.password) return this.authenticate(username, password)
      this.#verified.set(username, key)
    }
    const { password: _password, ...principal } = user
    return principal
  }

  /** The user of an HTTP `Authorization: Basic ...` header, when the password is right; otherwise `null`. */
  async authenticateBasic (header: string | undefined): Promise<Principal | null> {
    if (!header?.startsWith('Basic ')) return null
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
    const i = decoded.indexOf(':')
    if (i < 0) return null
    return this.authenticate(decoded.slice(0, i), decoded.slice(i + 1))
  }

  /** Adds or replaces a user. Returns the password (generated when not given). */
  async add (user: Omit<User, 'password'> & { password?: string }): Promise<string> {
    const [password] = await this.addMany([user])
    return password!
  }

  /** Adds or replaces many users with one write of the file; returns their passwords in order. */
  async addMany (users: (Omit<User, 'password'> & { password?: string })[]): Promise<string[]> {
    this.load()
    const passwords = users.map((u) => u.password ?? generatePassword())
    const records = await Promise.all(users.map(async (u, i) => User.parse({ ...u, password: await hashPassword(passwords[i]!) })))
    for (const r of records) this.#users.set(r.username, r)
    this.#save()
    return passwords
  }

  remove (username: string): void {
    this.load()
    if (!this.#users.delete(username)) throw new HomefactsError(Codes.USER, `no user named "${username}"`)
    this.#save()
  }

  #save (): void {
    mkdirSync(dirname(this.path), { recursive: true })
    const tmp = `${this.path}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify({ users: [...this.#users.values()] }, null, 2) + '\n', { mode: 0o600 })
    renameSync(tmp, this.path)
    this.#mtime = -1
    this.load()
  }
}
