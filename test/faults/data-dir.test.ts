import { execFileSync } from 'node:child_process'
import { appendFileSync, cpSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, startArgs, startHubProcess, type HubProcess } from '../helpers/process.ts'
import { connect, Inbox, publishAck } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'

// Faults: a broken config or data dir, a second hub on the same dir and a full disk
// each end `homefacts start` with one clear line (exit 1, no stack), and the recovery docs/running.md gives works.

const dirs: string[] = []
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'homefacts-faults-'))
  dirs.push(d)
  return d
}

let seeded: string

async function stopped (hub: HubProcess): Promise<void> {
  hub.proc.kill('SIGTERM')
  await hub.exited
}

/** A copy of a data dir one hub has run on and stopped cleanly. */
function copyOfSeeded (): string {
  const d = tempDir()
  cpSync(seeded, d, { recursive: true })
  return d
}

/** Runs `homefacts start`, which must fail, and returns its exit code and stderr. */
async function failedStart (dir: string, extra: string[] = []): Promise<{ code: number, stderr: string }> {
  const r = await runCli(startArgs(dir, extra), {}, 30_000)
  // One line, not a stack trace.
  expect(r.stderr).not.toMatch(/^\s+at /m)
  return { code: r.code, stderr: r.stderr.trim() }
}

/** Starts a hub on `dir` and checks that it serves its health check, then stops it. */
async function startsAgain (dir: string): Promise<void> {
  const hub = await startHubProcess(dir)
  const health = await (await fetch(`${hub.httpUrl}/api/health`)).json() as { status: string }
  expect(health.status).toBe('ok')
  await stopped(hub)
}

beforeAll(async () => {
  seeded = tempDir()
  await stopped(await startHubProcess(seeded))
})

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('a broken config or data dir', () => {
  it('a config file that is not JSON is named in one line with what is wrong', async () => {
    const file = join(tempDir(), 'homefacts.config.json')
    writeFileSync(file, '{"mqtt": {"port": 1883,')
    const r = await failedStart(tempDir(), ['--config', file])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(new RegExp(`^homefacts: config file ${file} is not valid JSON: `))
  })

  it('a config file with a bad value names the key and where it came from', async () => {
    const file = join(tempDir(), 'homefacts.config.json')
    writeFileSync(file, JSON.stringify({ heartbeatSeconds: 'eighteen' }))
    const r = await failedStart(tempDir(), ['--config', file])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('homefacts: invalid config:')
    expect(r.stderr).toContain(`heartbeatSeconds: Invalid input: expected number, received string (from config file ${file})`)
  })

  it('garbage in the ledger is reported as a corrupt ledger.sqlite, and moving it aside lets the hub start', async () => {
    const dir = copyOfSeeded()
    const ledger = join(dir, 'ledger.sqlite')
    for (const f of readdirSync(dir).filter((f) => f.startsWith('ledger.sqlite-'))) rmSync(join(dir, f))
    writeFileSync(ledger, Buffer.alloc(8192, 0x5a))
    const r = await failedStart(dir)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`homefacts: ${ledger} is corrupt (file is not a database): restore it from a backup, or move it aside (mv ${ledger} ${ledger}.broken) and start again, and the ledger starts again at offset 1 (facts already delivered stay delivered; GET /api/facts no longer replays them)`)
    renameSync(ledger, `${ledger}.broken`)
    await startsAgain(dir)
  })

  it('garbage in the session store is reported as a corrupt sessions.sqlite, and moving it aside lets the hub start', async () => {
    const dir = copyOfSeeded()
    const sessions = join(dir, 'sessions.sqlite')
    for (const f of readdirSync(dir).filter((f) => f.startsWith('sessions.sqlite-'))) rmSync(join(dir, f))
    writeFileSync(sessions, Buffer.alloc(8192, 0x5a))
    const r = await failedStart(dir)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`homefacts: ${sessions} is corrupt (file is not a database): restore it from a backup, or move it aside (mv ${sessions} ${sessions}.broken) and start again, and persistent sessions, their queued messages and retained state are lost: clients subscribe again and devices publish their state again`)
    renameSync(sessions, `${sessions}.broken`)
    await startsAgain(dir)
  })

  it('garbage in secrets.json is reported with the way to recover, and moving it aside lets the hub start', async () => {
    const dir = copyOfSeeded()
    const secrets = join(dir, 'secrets.json')
    writeFileSync(secrets, 'not json')
    const r = await failedStart(dir)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(new RegExp(`^homefacts: secrets file ${secrets} is not valid JSON \\(.+\\): move it aside`))
    renameSync(secrets, `${secrets}.broken`)
    await startsAgain(dir)
  })

  it('garbage in users.json names the users file', async () => {
    const dir = copyOfSeeded()
    writeFileSync(join(dir, 'users.json'), '[[[')
    const r = await failedStart(dir)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(new RegExp(`^homefacts: users file ${join(dir, 'users.json')} is not valid JSON`))
  })

  it('a second hub on the same data dir says the dir is in use, and the first keeps serving', async () => {
    const dir = copyOfSeeded()
    const first = await startHubProcess(dir)
    try {
      const r = await failedStart(dir)
      expect(r.code).toBe(1)
      expect(r.stderr).toBe(`homefacts: ${join(dir, 'sessions.sqlite')} is locked (database is locked): another hub is running on ${dir}; stop it, or start this one with another --data-dir`)
      const health = await (await fetch(`${first.httpUrl}/api/health`)).json() as { status: string }
      expect(health.status).toBe('ok')
    } finally {
      await stopped(first)
    }
  })
})

const root = process.getuid?.() === 0
describe.skipIf(!root)('a full disk (a 2 MB tmpfs; needs root)', () => {
  it('a start on a full disk says the disk is full, and freeing space lets the hub start', async () => {
    const dir = tempDir()
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir])
    try {
      const filler = join(dir, 'filler')
      writeFileSync(filler, Buffer.alloc(1_950_000))
      const r = await failedStart(dir)
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(new RegExp(`^homefacts: no space left on the disk that holds ${dir} \\(.+\\): free some space there \\(df -h ${dir}\\) and start again`))
      rmSync(filler)
      await startsAgain(dir)
    } finally {
      execFileSync('umount', [dir])
    }
  })

  it('a disk that fills while the hub runs: the fact is not acknowledged, and once space is freed the same fact is taken', async () => {
    const dir = tempDir()
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir])
    const hub = await startHubProcess(dir)
    try {
      const watcher = await connect(hub.mqttUrl, { ...hub.admin, clientId: 'full-watcher' })
      const inbox = new Inbox(watcher)
      await watcher.subscribeAsync('home/kitchen/lily-cup/fact/#', { qos: 1 })
      const filler = join(dir, 'filler')
      writeFileSync(filler, Buffer.alloc(0))
      // Fill the disk to its last byte.
      for (let size = 1 << 20; size >= 1; size >>= 1) {
        try {
          appendFileSync(filler, Buffer.alloc(size))
          size <<= 1
        } catch {}
      }
      const fact = JSON.stringify(cupEmpty(1))
      const c = await connect(hub.mqttUrl, { ...hub.admin, clientId: 'full-publisher', protocolVersion: 5 })
      const outcome = await Promise.race([
        publishAck(c, 'home/kitchen/lily-cup/fact/empty', fact).then((ack) => ack.reasonCode, () => 'error'),
        new Promise((resolve) => c.once('close', () => resolve('closed')))
      ])
      expect(outcome === 'closed' || outcome === 0x80).toBe(true)
      const logged = await hub.waitForLog<{ msg: string }>((e) => e.msg === 'ledger append failed; publish not acknowledged')
      expect(logged.msg).toBe('ledger append failed; publish not acknowledged')
      c.end(true)
      rmSync(filler)
      const again = await connect(hub.mqttUrl, { ...hub.admin, clientId: 'full-publisher-2', protocolVersion: 5 })
      expect(await publishAck(again, 'home/kitchen/lily-cup/fact/empty', fact)).toStrictEqual({ reasonCode: 0 })
      await inbox.wait((m) => m.payload === fact)
      expect(inbox.messages.map((m) => m.payload)).toStrictEqual([fact])
      const health = await (await fetch(`${hub.httpUrl}/api/health`)).json() as { status: string, ledgerOffset: number }
      expect(health).toStrictEqual({ status: 'ok', ledgerOffset: 1 })
      await again.endAsync()
      await watcher.endAsync()
    } finally {
      await stopped(hub)
      execFileSync('umount', [dir])
    }
  }, 60_000)
})
if (!root) console.warn('test/faults/data-dir.test.ts: not root, so the full-disk case (a tmpfs mount) is skipped')
