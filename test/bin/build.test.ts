import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { thingFactTopic } from '#contract'
import { connectInbox, publishAck } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'
import { BIN, startHubProcess } from '../helpers/process.ts'

const DIST = join(BIN, '..', '..', 'dist')

/**
 * Runs `homefacts --version` from a copy of the command whose package root is `root`, and returns
 * its exit code, stdout and stderr. `shebang`: run the file itself, so Node gets the shebang's flags.
 */
function runCopy (root: string, opts: { shebang?: boolean } = {}): Promise<{ code: number | null, stdout?: string, stderr: string }> {
  mkdirSync(join(root, 'bin'), { recursive: true })
  for (const f of ['homefacts.js', 'stale-build.js']) copyFileSync(join(BIN, '..', f), join(root, 'bin', f))
  const bin = join(root, 'bin', 'homefacts.js')
  return new Promise((resolve) => {
    const proc = opts.shebang ? spawn(bin, ['--version']) : spawn(process.execPath, [bin, '--version'])
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    proc.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    proc.on('exit', (code) => resolve(opts.shebang ? { code, stdout, stderr } : { code, stderr }))
  })
}

describe('the built hub', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homefacts-build-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('runs the bundle in dist/ with plain Node and acknowledges a fact a subscriber then receives', async () => {
    const hub = await startHubProcess(join(dir, 'data'))
    try {
      const cmdline = readFileSync(`/proc/${hub.proc.pid}/cmdline`, 'utf8').split('\0')
      expect(cmdline.some((a) => a.includes('tsx'))).toBe(false)
      // The command runs the bundle dist/cli.js, made from the sources its manifest lists.
      const dist = join(BIN, '..', '..', 'dist')
      expect(JSON.parse(readFileSync(join(dist, 'build.json'), 'utf8')).sources).toEqual(expect.arrayContaining(['services/hub/cli.ts', 'broker/ledger.ts', 'package-lock.json']))
      const { client, inbox } = await connectInbox(hub.mqttUrl, { ...hub.admin, protocolVersion: 5 })
      const topic = thingFactTopic('kitchen', 'lily-cup', 'empty')
      await client.subscribeAsync(topic, { qos: 1 })
      const fact = cupEmpty(1)
      expect(await publishAck(client, topic, JSON.stringify(fact))).toStrictEqual({ reasonCode: 0 })
      const [got] = await inbox.wait(topic)
      expect(got).toStrictEqual({ topic, payload: JSON.stringify(fact), qos: 1, retain: false })
      await client.endAsync()
    } finally {
      hub.proc.kill('SIGTERM')
      await hub.exited
    }
  })

  it('says so, and exits 1, when there is no build', async () => {
    const root = join(dir, 'none')
    expect(await runCopy(root)).toStrictEqual({ code: 1, stderr: `homefacts: there is no build in dist/; run "npm run build" in ${root}\n` })
  })

  it('says so, and exits 1, when a source changed after the build', async () => {
    const root = join(dir, 'stale')
    mkdirSync(join(root, 'dist'), { recursive: true })
    mkdirSync(join(root, 'broker'), { recursive: true })
    writeFileSync(join(root, 'broker', 'ledger.ts'), '')
    writeFileSync(join(root, 'broker', 'acl.ts'), '')
    utimesSync(join(root, 'broker', 'acl.ts'), new Date(1000), new Date(1000))
    writeFileSync(join(root, 'dist', 'build.json'), JSON.stringify({ builtAt: Date.now() - 60_000, sources: ['broker/acl.ts', 'broker/gone.ts', 'broker/ledger.ts'] }))
    expect(await runCopy(root)).toStrictEqual({ code: 1, stderr: `homefacts: the build in dist/ is older than broker/ledger.ts; run "npm run build" in ${root}\n` })
  })
})
