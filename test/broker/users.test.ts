import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CONCURRENT_SCRYPT, UserStore } from '../../broker/users.ts'
import { runCli } from '../helpers/process.ts'

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

describe('the users file: writers', () => {
  let dir: string
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'homefacts-users-')) })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))
  const names = (file: string): string[] => (JSON.parse(readFileSync(file, 'utf8')) as { users: { username: string }[] }).users.map((u) => u.username).sort()

  it('keeps a user another writer added after this one read the file', async () => {
    const hub = new UserStore(join(dir, 'users.json'))
    await hub.add({ username: 'homefacts-hub', role: 'admin' })
    // `homefacts users add` in another process, after the hub last read the file.
    await new UserStore(hub.path).add({ username: 'mummy', role: 'member', member: 'mummy', password: 'pw-mummy' })
    await hub.add({ username: 'notifier', role: 'service' })
    expect(names(hub.path)).toStrictEqual(['homefacts-hub', 'mummy', 'notifier'])
    expect((await hub.authenticate('mummy', 'pw-mummy'))?.username).toBe('mummy')
    await new UserStore(hub.path).remove('homefacts-hub')
    await hub.add({ username: 'daddy', role: 'member', member: 'daddy' })
    expect(names(hub.path)).toStrictEqual(['daddy', 'mummy', 'notifier'])
  })

  it('loses none of the users many writers add at once, in this process and in others', async () => {
    const path = join(dir, 'users.json')
    const here = Array.from({ length: 4 }, (_, i) => new UserStore(path).add({ username: `svc-${i}`, role: 'service' }))
    const there = Array.from({ length: 4 }, (_, i) => runCli(['users', 'add', `member-${i}`, '--role', 'member', '--member', `member-${i}`, '--password', `pw-${i}`, '--data-dir', dir]))
    const results = await Promise.all([...here, ...there])
    expect(results.slice(4).map((r) => (r as { code: number }).code)).toStrictEqual([0, 0, 0, 0])
    expect(names(path)).toStrictEqual([...['member-0', 'member-1', 'member-2', 'member-3'], ...['svc-0', 'svc-1', 'svc-2', 'svc-3']])
    const store = new UserStore(path)
    for (let i = 0; i < 4; i++) expect((await store.authenticate(`member-${i}`, `pw-${i}`))?.username).toBe(`member-${i}`)
  })

  it('sees a change made within the same millisecond as the one before, and reports a broken edit once while keeping the last good users', async () => {
    const path = join(dir, 'users.json')
    const errors: string[] = []
    const store = new UserStore(path, (err) => errors.push(err.message))
    await store.add({ username: 'anna', role: 'service' })
    expect(store.list().map((u) => u.username)).toStrictEqual(['anna'])
    writeFileSync(`${path}.tmp`, JSON.stringify({ users: [...(JSON.parse(readFileSync(path, 'utf8')) as { users: unknown[] }).users, { username: 'ben', role: 'service', password: 'scrypt$1$1$1$x$y' }] }))
    renameSync(`${path}.tmp`, path)
    expect(store.list().map((u) => u.username)).toStrictEqual(['anna', 'ben'])
    writeFileSync(path, '{ broken')
    expect(store.list().map((u) => u.username)).toStrictEqual(['anna', 'ben'])
    expect(store.list().map((u) => u.username)).toStrictEqual(['anna', 'ben'])
    expect(errors).toStrictEqual([`users file ${path} is not valid JSON: Expected property name or '}' in JSON at position 2`])
  })
})
