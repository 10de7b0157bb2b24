import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, describe, expect, it } from 'vitest'
import { BIN } from '../helpers/process.ts'

/** Starts `homefacts start` with `--log-pretty <pretty>`; resolves with its "hub started" line and its thread count then. */
async function startedLine (dir: string, pretty: boolean): Promise<{ line: string, threads: number }> {
  const proc = spawn(BIN, ['start', '--data-dir', dir, '--mqtt-host', '127.0.0.1', '--mqtt-port', '0', '--http-host', '127.0.0.1', '--http-port', '0', '--https-enabled', 'false', '--mqtts-enabled', 'false', '--node-red-enabled', 'false', '--shop-enabled', 'false', '--log-pretty', String(pretty)], { stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise((resolve) => proc.once('exit', resolve))
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: proc.stdout }).on('line', (l) => { if (l.includes('hub started')) resolve(l) })
      void exited.then((code) => reject(new Error(`the hub exited (${String(code)}) before it started`)))
    })
    const threads = Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))![1])
    return { line, threads }
  } finally {
    proc.kill('SIGTERM')
    await exited
  }
}

describe('the pretty log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homefacts-log-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('prints "hub started" as a pretty line, from no more threads than the JSON log takes', async () => {
    const json = await startedLine(join(dir, 'json'), false)
    expect(JSON.parse(json.line)).toMatchObject({ level: 30, name: 'homefacts', msg: 'hub started' })
    const pretty = await startedLine(join(dir, 'pretty'), true)
    // pino-pretty's layout, coloured: "[time] INFO (homefacts): hub started".
    expect(pretty.line.startsWith('{')).toBe(false)
    expect(pretty.line).toMatch(/INFO.*\(homefacts\).*: .*hub started/)
    expect(pretty.threads).toBe(json.threads)
  }, 60_000)
})
