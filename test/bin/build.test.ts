import { spawn } from 'node:child_process'
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { thingFactTopic } from '#contract'
import { connectInbox, publishAck } from '../helpers/mqtt.ts'
import { cupEmpty } from '../helpers/facts.ts'
import { BIN, startHubProcess } from '../helpers/process.ts'
import { codeCacheFile } from '../../bin/bundle.js'
import { commandShebang } from '../../services/lib/shebang.ts'

const DIST = join(BIN, '..', '..', 'dist')

/**
 * Runs `homefacts --version` from a copy of the command whose package root is `root`, and returns
 * its exit code, stdout and stderr. `shebang`: run the file itself, so Node gets the shebang's flags.
 */
function runCopy (root: string, opts: { shebang?: boolean } = {}): Promise<{ code: number | null, stdout?: string, stderr: string }> {
  mkdirSync(join(root, 'bin'), { recursive: true })
  for (const f of ['homefacts.js', 'stale-build.js', 'bundle.js']) copyFileSync(join(BIN, '..', f), join(root, 'bin', f))
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

/** A package root with a copy of the built command, on this checkout's node_modules. */
function copyOfBuild (root: string): { bundle: string } {
  mkdirSync(join(root, 'dist'), { recursive: true })
  for (const f of ['cli.cjs', 'build.json']) copyFileSync(join(DIST, f), join(root, 'dist', f))
  // A copy keeps the times: the build stays newer than its sources.
  cpSync(join(DIST, '..', 'package.json'), join(root, 'package.json'), { preserveTimestamps: true })
  symlinkSync(join(DIST, '..', 'node_modules'), join(root, 'node_modules'))
  return { bundle: join(root, 'dist', 'cli.cjs') }
}

describe('the built hub', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homefacts-build-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('runs the bundle in dist/ with plain Node and acknowledges a fact a subscriber then receives', async () => {
    const hub = await startHubProcess(join(dir, 'data'))
    try {
      const cmdline = readFileSync(`/proc/${hub.proc.pid}/cmdline`, 'utf8').split('\0')
      expect(cmdline.some((a) => a.includes('tsx'))).toBe(false)
      // The command runs the bundle dist/cli.cjs, made from the sources its manifest lists, with
      // the fact checks compiled in the build in place of broker/fact-checks.ts.
      const dist = join(BIN, '..', '..', 'dist')
      expect(JSON.parse(readFileSync(join(dist, 'build.json'), 'utf8')).sources).toEqual(expect.arrayContaining(['services/hub/cli.ts', 'broker/fact-checks.ts', 'package-lock.json']))
      const bundle = readFileSync(join(dist, 'cli.cjs'), 'utf8')
      // broker/fact-checks.ts itself (ajv at start) is not in it.
      expect(bundle).not.toMatch(/factChecksModule|new Ajv2020/)
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

  it('leaves a code cache for the command, which the command keeps while V8 accepts it and replaces when V8 rejects it', async () => {
    // The build's: for the command's own Node flags.
    const flags = commandShebang().flags
    expect(statSync(codeCacheFile(join(DIST, 'cli.cjs'), flags)).size).toBeGreaterThan(100_000)
    const root = join(dir, 'cache')
    const { bundle } = copyOfBuild(root)
    const cache = codeCacheFile(bundle, flags)
    const version = { code: 0, stdout: '0.1.0\n', stderr: '' }
    // None yet: the command runs without one, and writes it as it exits.
    expect(() => statSync(cache)).toThrow(/ENOENT/)
    expect(await runCopy(root, { shebang: true })).toStrictEqual(version)
    const written = readFileSync(cache)
    const writtenAt = statSync(cache).mtimeMs
    expect(written.length).toBeGreaterThan(100_000)
    // Accepted: the next run leaves it as it is, not even writing it again.
    expect(await runCopy(root, { shebang: true })).toStrictEqual(version)
    expect(readFileSync(cache).equals(written)).toBe(true)
    expect(statSync(cache).mtimeMs).toBe(writtenAt)
    // A cache V8 rejects (here, garbage) is no error: the run loads the bundle without it, then replaces it.
    writeFileSync(cache, 'not a V8 code cache')
    expect(await runCopy(root, { shebang: true })).toStrictEqual(version)
    const replaced = readFileSync(cache)
    expect(replaced.length).toBeGreaterThan(100_000)
    expect(await runCopy(root, { shebang: true })).toStrictEqual(version)
    expect(readFileSync(cache).equals(replaced)).toBe(true)
    // Other Node flags, another cache: the one above stays.
    expect(await runCopy(root)).toStrictEqual({ code: 0, stderr: '' })
    expect(statSync(codeCacheFile(bundle, [])).size).toBeGreaterThan(100_000)
    expect(readFileSync(cache).equals(replaced)).toBe(true)
    // V8 checks a cache's source by its length alone: a bundle changed since, even to the same
    // length (here its last comment), gets a cache of its own.
    const source = readFileSync(bundle, 'latin1')
    writeFileSync(bundle, source.replace(/cli\.cjs\.map\n?$/, (m) => m.replace('map', 'mop')), 'latin1')
    expect(statSync(bundle).size).toBe(source.length)
    const changed = codeCacheFile(bundle, flags)
    expect(changed).not.toBe(cache)
    expect(await runCopy(root, { shebang: true })).toStrictEqual(version)
    expect(statSync(changed).size).toBeGreaterThan(100_000)
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
