import { mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CONCURRENT_SCRYPT, UserStore } from '../../broker/users.ts'

// Counts the scrypt runs (each holds 16 MB while it runs) and the most at once; they stay real.
const runs = vi.hoisted(() => ({ started: 0, running: 0, most: 0 }))
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>()
  const scrypt = (...args: unknown[]): void => {
    const done = args.pop() as (err: Error | null, key: Buffer) => void
    runs.started++
    runs.most = Math.max(runs.most, ++runs.running)
    ;(real.scrypt as (...a: unknown[]) => void)(...args, (err: Error | null, key: Buffer) => {
      runs.running--
      done(err, key)
    })
  }
  return { ...real, scrypt, default: { ...real, scrypt } }
})

describe('the users file: password checks', () => {
  let dir: string
  let users: UserStore
  let passwords: string[]
  const names = ['anna', 'ben', 'cleo', 'dev-1', 'dev-2', 'dev-3']
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'homefacts-users-'))
    users = new UserStore(join(dir, 'users.json'))
    passwords = await users.addMany(names.map((username) => ({ username, role: 'device', things: ['+/+'] })))
    Object.assign(runs, { started: 0, running: 0, most: 0 })
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('lets twenty connections with the same name and password at once share one scrypt check', async () => {
    const all = await Promise.all(Array.from({ length: 20 }, () => users.authenticate('anna', passwords[0]!)))
    expect(all.map((p) => p?.username)).toStrictEqual(Array(20).fill('anna'))
    expect(runs.started).toBe(1)
    // Known now: the next one runs none.
    expect((await users.authenticate('anna', passwords[0]!))?.username).toBe('anna')
    expect(runs.started).toBe(1)
  })

  it(`runs at most ${CONCURRENT_SCRYPT} scrypt checks at once, and every one of them is answered`, async () => {
    const tries = names.flatMap((name, i) => [users.authenticate(name, passwords[i]!), users.authenticate(name, 'wrong')])
    const results = await Promise.all(tries)
    expect(results.map((p) => p?.username ?? null)).toStrictEqual(names.flatMap((name) => [name, null]))
    expect(runs.started).toBe(names.length * 2)
    expect(runs.most).toBe(CONCURRENT_SCRYPT)
  })

  it('refuses a wrong password that arrives with the right one, and checks it again each time', async () => {
    const [right, wrong] = await Promise.all([users.authenticate('ben', passwords[1]!), users.authenticate('ben', `${passwords[1]}x`)])
    expect([right?.username, wrong]).toStrictEqual(['ben', null])
    expect(await users.authenticate('ben', `${passwords[1]}x`)).toBeNull()
    expect(runs.started).toBe(3)
  })

  it('refuses the old password once the users file has a new one, even when its check began before', async () => {
    // The new file, made beforehand, lands while the check runs (as `homefacts users add` in another process).
    const next = new UserStore(join(dir, 'next.json'))
    await next.addMany(names.map((username, i) => ({ username, role: 'device', things: ['+/+'], password: username === 'cleo' ? 'a new password' : passwords[i]! })))
    const check = users.authenticate('cleo', passwords[2]!)
    renameSync(next.path, users.path)
    expect(await check).toBeNull()
    expect(await users.authenticate('cleo', passwords[2]!)).toBeNull()
    expect((await users.authenticate('cleo', 'a new password'))?.username).toBe('cleo')
  })
})
