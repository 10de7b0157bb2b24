import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, describe, expect, it } from 'vitest'
import { BIN, runCli, startArgs } from '../helpers/process.ts'
import { startTestHub } from '../helpers/hub.ts'

/** The first minutes with the hub, as a new user meets them. */
describe('the first minutes', () => {
  const dirs: string[] = []
  const dir = (): string => { const d = mkdtempSync(join(tmpdir(), 'homefacts-first-')); dirs.push(d); return d }
  afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

  it('start names the web app\'s address and the next step: add a member', async () => {
    const proc = spawn(BIN, startArgs(dir()), { stdio: ['ignore', 'pipe', 'pipe'] })
    const lines: string[] = []
    const next = await new Promise<string>((resolve, reject) => {
      createInterface({ input: proc.stdout! }).on('line', (line) => {
        lines.push(line)
        // The log line and the printed text go out on two streams: wait for both.
        const next = lines.find((l) => l.startsWith('  homefacts users add'))
        if (next && lines.some((l) => l.includes('"hub started"'))) resolve(next)
      })
      proc.once('exit', (code) => reject(new Error(`exited ${code}: ${lines.join('\n')}`)))
    })
    const started = JSON.parse(lines.find((l) => l.includes('"hub started"'))!) as { http: string }
    proc.kill('SIGTERM')
    await new Promise((resolve) => proc.once('exit', resolve))
    expect(next).toBe('  homefacts users add <name> --role member --member <name>')
    const i = lines.indexOf('The household web app:')
    expect(lines.slice(i, i + 3)).toStrictEqual(['The household web app:', `  ${started.http}/`, 'Next: add a member, then open the web app and log in as them:'])
  }, 30_000)

  it('a start that fails says why, and never that a hub stopped', async () => {
    const taken: Server = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port
    const args = startArgs(dir()).map((a, i, all) => all[i - 1] === '--mqtt-port' ? String(port) : a)
    const r = await runCli(args, {}, 20_000)
    taken.close()
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('--mqtt-port')
    expect(r.stdout).not.toContain('hub stopped')
  }, 30_000)

  it('answers the ledger API\'s refusals with HF_ codes like every other API of the hub', async () => {
    const t = await startTestHub()
    try {
      const none = await fetch(`${t.httpUrl}/api/facts`)
      expect({ status: none.status, body: await none.json() }).toStrictEqual({ status: 401, body: { error: 'HF_BAD_CREDENTIALS', message: 'HTTP Basic credentials of a homefacts user are required' } })
      const phone = await t.addUser({ username: 'phone', role: 'member', member: 'lily' })
      const auth = `Basic ${Buffer.from(`phone:${phone.password}`).toString('base64')}`
      const res = await fetch(`${t.httpUrl}/api/facts?topic=shop/%23`, { headers: { authorization: auth } })
      expect({ status: res.status, body: await res.json() }).toStrictEqual({ status: 403, body: { error: 'HF_NOT_AUTHORIZED', message: 'phone may not read "shop/#"' } })
    } finally {
      await t.stop()
    }
  })
})
