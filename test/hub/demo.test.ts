import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BIN } from '../helpers/process.ts'

/** True while some process of the process group `pgid` is alive. */
function groupAlive (pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

/** Resolves with the error code of a TCP connect to the port (`ECONNREFUSED` once nothing listens). */
const connectCode = (port: number): Promise<string> => new Promise((resolve) => {
  const s = tcpConnect(port, '127.0.0.1')
  s.once('connect', () => { s.destroy(); resolve('connected') })
  s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'))
})

describe('homefacts demo --fast', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homefacts-demo-test-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('tells the story with people, then exits 0 within 30 s and leaves no process or port behind', async () => {
    // Its own process group, so anything it started and left running is found after it exits.
    const proc = spawn(process.execPath, [BIN, 'demo', '--fast', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let out = ''
    proc.stdout.on('data', (d: Buffer) => { out += d.toString() })
    proc.stderr.on('data', (d: Buffer) => { out += d.toString() })
    const t0 = Date.now()
    const timer = setTimeout(() => { try { process.kill(-proc.pid!, 'SIGKILL') } catch { /* gone */ } }, 30_000)
    const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)))
    clearTimeout(timer)
    const took = Date.now() - t0
    expect({ code, took: took < 30_000 }, out).toStrictEqual({ code: 0, took: true })
    expect(groupAlive(proc.pid!)).toBe(false)
    const port = Number(/hub on mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1])
    expect(await connectCode(port)).toBe('ECONNREFUSED')
    // The story: an offer, a person's claim from the button, a resolved skip, an escalation.
    const lines = out.split('\n')
    expect(lines.some((l) => /mummy +asked: "I'll do it\?" for cup\.empty/.test(l))).toBe(true)
    expect(lines.some((l) => /lily-cup claimed by mummy/.test(l))).toBe(true)
    expect(lines.some((l) => /daddy +saw cup\.empty .* SKIP \[resolved\]/.test(l))).toBe(true)
    expect(lines.some((l) => /grandma +⚠ ESCALATED step 2/.test(l))).toBe(true)
    // No agent claimed for anyone: every claim on the wire was Mummy's own, from her button or phone.
    expect(lines.filter((l) => /→ CLAIM/.test(l))).toStrictEqual([])
    expect(out).toContain('The whole story is in the ledger')
  }, 40_000)
})
