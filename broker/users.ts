import { randomBytes, scrypt as scryptCb, timingSafeEqual, createHash } from 'node:crypto'
import { readFileSync, statSync, writeFileSync, renameSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { promisify } from 'node:util'
import pLimit from 'p-limit'
import lockfile from 'proper-lockfile'
import { z } from 'zod'
import { Codes, HomefactsError, SEGMENT, toIssues } from '#contract'

const scryptNow = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, opts: { N: number, r: number, p: number, maxmem: number }) => Promise<Buffer>

/** At most this many scrypt runs at once: each holds 128 × N × r bytes (16 MB), so a burst adds at most 32 MB of RSS. */
export const CONCURRENT_SCRYPT = 2
const scryptSlot = pLimit(CONCURRENT_SCRYPT)
const scrypt = (...args: Parameters<typeof scryptNow>): Promise<Buffer> => scryptSlot(() => scryptNow(...args))

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
  /** Node-RED (`nodered`): the household members its flows may claim as. */
  members: z.array(z.string().regex(SEGMENT)).optional()
}).strict()
export type User = z.infer<typeof User>

const UsersFile = z.object({ users: z.array(User) }).strict()

const COST = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }
const KEYLEN = 32

/** Hashes a password with scrypt and a fresh salt. */
export async function hashPassword (password: string): Promise<string> {
  const salt = randomBytes(16)
  const hash = await scrypt(password, salt, KEYLEN, COST)
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64')}$${hash.toString('base64')}`
}

/** Checks a password against a stored scrypt hash in constant time. */
export async function verifyPassword (password: string, stored: string): Promise<boolean> {
  const [, n, r, p, salt, hash] = stored.split('$')
  if (!n || !r || !p || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64')
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: COST.maxmem })
  return timingSafeEqual(actual, expected)
}

/** A new random password: 18 bytes, URL-safe. */
export const generatePassword = (): string => randomBytes(18).toString('base64url')

/** The identity a connected client carries, set by `authenticate`. */
export type Principal = Omit<User, 'password'>

/**
 * The users file (`<dataDir>/users.json`), hashed with scrypt. Read again whenever its inode, size
 * or mtime moved, so `homefacts users add` takes effect on a running hub; changed under a lock the
 * hub and the CLI share (`users.json.lock`), so no write drops a user another writer added.
 */
export class UserStore {
  readonly path: string
  /** The file's identity when last read: inode, size and mtime; '' when missing. */
  #version: string | null = null
  #users = new Map<string, User>()
  /** sha256(user, password) of recent successful logins, so reconnect storms skip scrypt. */
  #verified = new Map<string, string>()
  /** Checks under way, by that key: the same user and password connecting many times at once share one. */
  #checking = new Map<string, Promise<boolean>>()
  #onBadFile: (err: HomefactsError) => void
  /** The version of a bad file already reported, so it is reported once. */
  #badVersion: string | null = null

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
    const version = this.#stat()
    if (version === this.#version || version === this.#badVersion) return
    try {
      this.#users = this.#read()
      this.#verified.clear()
      this.#version = version
      this.#badVersion = null
    } catch (err) {
      if (!(err instanceof HomefactsError) || this.#version === null) throw err
      // Keep the last good users.
      this.#badVersion = version
      this.#onBadFile(err)
    }
  }

  #stat (): string {
    try {
      const st = statSync(this.path)
      return `${st.ino}:${st.size}:${st.mtimeMs}`
    } catch {
      return ''
    }
  }

  /** The users in the file now (none when it is missing). */
  #read (): Map<string, User> {
    let text: string
    try {
      text = readFileSync(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map()
      throw err
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (err) {
      throw new HomefactsError(Codes.USERS_FILE, `users file ${this.path} is not valid JSON: ${(err as Error).message}`)
    }
    const r = UsersFile.safeParse(parsed)
    if (!r.success) throw new HomefactsError(Codes.USERS_FILE, `users file ${this.path} is malformed`, toIssues(r.error.issues))
    return new Map(r.data.users.map((u) => [u.username, u]))
  }

  /** Under the lock, `change` gets the users as the file has them now; what it leaves is written (a temp file renamed over it). */
  async #update<T> (change: (users: Map<string, User>) => T): Promise<T> {
    mkdirSync(dirname(this.path), { recursive: true })
    const release = await lockfile.lock(this.path, { realpath: false, lockfilePath: `${this.path}.lock`, retries: { retries: 50, minTimeout: 20, maxTimeout: 200 } })
    try {
      const users = this.#read()
      const result = change(users)
      const tmp = `${this.path}.${process.pid}.tmp`
      writeFileSync(tmp, JSON.stringify({ users: [...users.values()] }, null, 2) + '\n', { mode: 0o600 })
      renameSync(tmp, this.path)
      this.#version = null
      this.load()
      return result
    } finally {
      await release()
    }
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
    const passwords = users.map((u) => u.password ?? generatePassword())
    const records = await Promise.all(users.map(async (u, i) => User.parse({ ...u, password: await hashPassword(passwords[i]!) })))
    await this.#update((all) => { for (const r of records) all.set(r.username, r) })
    return passwords
  }

  async remove (username: string): Promise<void> {
    await this.#update((all) => {
      if (!all.delete(username)) throw new HomefactsError(Codes.USER, `no user named "${username}"`)
    })
  }
}
