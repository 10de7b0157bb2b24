import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { BIN, runCli, startHubProcess } from '../helpers/process.ts'
import { cupEmpty } from '../helpers/facts.ts'

describe('the hub state and its will', () => {
  let t: TestHub
  beforeAll(async () => { t = await startTestHub() })
  afterAll(() => t?.stop())

  it('says online, lets its will say offline when its connection dies, then says online again', async () => {
    const creds = await t.addUser({ username: 'watch', role: 'member', member: 'lily' })
    const c = await connect(t.mqttUrl, creds)
    const inbox = new Inbox(c)
    await c.subscribeAsync('homefacts/hub/state', { qos: 1 })
    const [first] = await inbox.wait('homefacts/hub/state')
    expect(first).toStrictEqual({ topic: 'homefacts/hub/state', payload: 'online', qos: 1, retain: true })
    // Drop the hub's own MQTT connection without a DISCONNECT: the broker publishes its will.
    const hubClient = (t.hub.broker.aedes as unknown as { clients: Record<string, { conn: { destroy: () => void } }> }).clients['homefacts-hub']
    hubClient!.conn.destroy()
    const [, offline, again] = await inbox.wait('homefacts/hub/state', 3)
    expect(offline).toStrictEqual({ topic: 'homefacts/hub/state', payload: 'offline', qos: 1, retain: false })
    expect(again!.payload).toBe('online')
    await c.endAsync()
  })

  it('says offline, retained, when it stops', async () => {
    const other = await startTestHub()
    const c = await connect(other.mqttUrl, await other.addUser({ username: 'watch', role: 'admin' }))
    const inbox = new Inbox(c)
    await c.subscribeAsync('homefacts/hub/state', { qos: 1 })
    await inbox.wait((m) => m.payload === 'online')
    const stopping = other.stop()
    const [offline] = await inbox.wait((m) => m.payload === 'offline')
    expect(offline).toStrictEqual({ topic: 'homefacts/hub/state', payload: 'offline', qos: 1, retain: false })
    await stopping
    c.end(true)
  })
})

describe('the homefacts command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homefacts-cli-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('prints the first-run admin credentials once, and stops cleanly on SIGTERM and SIGINT', async () => {
    const hub = await startHubProcess(dir)
    // The command runs Node with the bounds on the heap's growth on its shebang line (bin/homefacts.js).
    expect(readFileSync(`/proc/${hub.proc.pid}/cmdline`, 'utf8').split('\0')).toEqual(expect.arrayContaining(['--max-semi-space-size=8', '--heap-growing-percent=20']))
    expect(hub.output()).toContain('First run: created the admin account.')
    expect(hub.output()).toContain(`password: ${hub.admin.password}`)
    hub.proc.kill('SIGTERM')
    expect(await hub.exited).toBe(0)
    const again = await startHubProcess(dir)
    expect(again.output()).not.toContain('First run')
    const c = await connect(again.mqttUrl, again.admin)
    const inbox = new Inbox(c)
    await c.subscribeAsync('homefacts/hub/state', { qos: 1 })
    await inbox.wait('homefacts/hub/state')
    expect(inbox.on('homefacts/hub/state').at(-1)!.payload).toBe('online')
    await c.endAsync()
    again.proc.kill('SIGINT')
    expect(await again.exited).toBe(0)
  })

  it('names the key, the source and what is expected for a bad config file', async () => {
    const file = join(dir, 'bad.json')
    writeFileSync(file, JSON.stringify({ mqtt: { port: 'eighteen' }, http: { prot: 1 } }))
    const r = await runCli(['start', '--config', file, '--data-dir', join(dir, 'x')])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`homefacts: invalid config:\n  mqtt.port: Invalid input: expected number, received string (from config file ${file})\n  http: unknown key "http.prot" (from config file ${file})\n`)
    writeFileSync(file, '{ "mqtt": { "port": 1883, }')
    const broken = await runCli(['start', '--config', file])
    expect(broken.code).toBe(1)
    expect(broken.stderr).toMatch(new RegExp(`^homefacts: config file ${file} is not valid JSON: `))
    const env = await runCli(['start', '--data-dir', join(dir, 'x')], { HOMEFACTS_HTTP_PORT: '99999' })
    expect(env.stderr).toBe('homefacts: invalid config:\n  http.port: Too big: expected number to be <=65535 (from environment variable HOMEFACTS_HTTP_PORT)\n')
  })

  it('names the port and the flag that changes it when the port is taken', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    const r = await runCli(['start', '--data-dir', join(dir, 'busy'), '--mqtt-host', '127.0.0.1', '--mqtt-port', String(port), '--http-port', '0', '--https-port', '0', '--mqtts-port', '0', '--log-level', 'silent'])
    blocker.close()
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`homefacts: port ${port} on 127.0.0.1 is already in use (mqtt.port); choose another port with --mqtt-port or HOMEFACTS_MQTT_PORT\n`)
  })

  it('prints the admin password on the first start that succeeds, after a first start that failed on a taken port', async () => {
    const data = join(dir, 'first-start-failed')
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    const failed = await runCli(['start', '--data-dir', data, '--mqtt-host', '127.0.0.1', '--mqtt-port', String(port), '--http-host', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--mqtts-port', '0', '--log-pretty', 'false'])
    await new Promise((resolve) => blocker.close(resolve))
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`)
    expect(failed.stdout).not.toContain('First run')
    const hub = await startHubProcess(data)
    expect(hub.output()).toContain('First run: created the admin account.\n  user:     admin\n')
    const printed = /^ {2}password: (\S+)$/m.exec(hub.output())![1]!
    // The password on the screen is the one the broker knows.
    const c = await connect(hub.mqttUrl, { username: 'admin', password: printed })
    const inbox = new Inbox(c)
    await c.subscribeAsync('homefacts/hub/state', { qos: 1 })
    const [state] = await inbox.wait('homefacts/hub/state')
    expect(state!.payload).toBe('online')
    await c.endAsync()
    hub.proc.kill('SIGTERM')
    expect(await hub.exited).toBe(0)
  })

  it('prints its version from package.json with --version and -V', async () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag])
      expect(r).toStrictEqual({ code: 0, stdout: `${version}\n`, stderr: '' })
    }
  })

  it('adds, lists and removes users in the scrypt-hashed users file', async () => {
    // Six CLI processes, each loading the TypeScript sources: about 12 s on this machine when it is quiet.
    const data = join(dir, 'users')
    const add = await runCli(['users', 'add', 'lily-cup', '--role', 'device', '--thing', 'kitchen/lily-cup', '--data-dir', data])
    expect(add.code).toBe(0)
    expect(add.stdout).toMatch(/^added device "lily-cup", password: [\w-]{24}\n$/)
    await runCli(['users', 'add', 'mummy', '--role', 'member', '--member', 'mummy', '--password', 'pw', '--data-dir', data])
    const list = await runCli(['users', 'list', '--data-dir', data])
    expect(list.stdout).toBe('lily-cup\tdevice things=kitchen/lily-cup\nmummy\tmember member=mummy\n')
    const file = readFileSync(join(data, 'users.json'), 'utf8')
    expect(file).not.toContain('"pw"')
    expect(JSON.parse(file).users[1].password).toMatch(/^scrypt\$16384\$8\$1\$/)
    const bad = await runCli(['users', 'add', 'x', '--role', 'wizard', '--data-dir', data])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain("error: option '-r, --role <role>' argument 'wizard' is invalid. Allowed choices are admin, service, device, member, responder, shop, nodered, orders, customers, notifications, homeassistant, estate.")
    expect((await runCli(['users', 'remove', 'lily-cup', '--data-dir', data])).stdout).toBe('removed "lily-cup"\n')
    expect((await runCli(['users', 'remove', 'lily-cup', '--data-dir', data])).stderr).toBe('homefacts: no user named "lily-cup"\n')
    expect((await runCli(['users', 'list', '--data-dir', data])).stdout).toBe('mummy\tmember member=mummy\n')
  }, 60_000)

  it('exports an AsyncAPI 3 document and JSON Schemas generated from the contract', async () => {
    const out = join(dir, 'contract')
    const r = await runCli(['contract', 'export', '--out', out])
    expect(r.code).toBe(0)
    const doc = JSON.parse(readFileSync(join(out, 'asyncapi.json'), 'utf8'))
    expect(doc.asyncapi).toBe('3.0.0')
    expect(doc.channels['fact-cup.empty'].address).toBe('home/{area}/{thing}/fact/empty')
    expect(doc.channels.state.address).toBe('home/{area}/{thing}/state')
    const data = JSON.parse(readFileSync(join(out, 'schemas', 'cup.empty.json'), 'utf8'))
    expect(data.properties.level).toStrictEqual({ type: 'number', minimum: 0, maximum: 1, description: 'Fill level from 0 (empty) to 1 (full)' })
    expect(existsSync(join(out, 'schemas', 'envelope.json'))).toBe(true)
  })

  it('answers --help for every command', async () => {
    for (const args of [['--help'], ['start', '--help'], ['users', 'add', '--help'], ['facts', 'tail', '--help'], ['contract', 'export', '--help']]) {
      const r = await runCli(args)
      expect(r.code, args.join(' ')).toBe(0)
      expect(r.stdout).toMatch(/^Usage: homefacts/)
    }
  })

  it('tails the ledger in order with --after and --topic, and follows new facts', async () => {
    const data = join(dir, 'tail')
    const t = await startTestHub({ dir: data })
    const creds = await t.addUser({ username: 'svc', role: 'service' })
    const c = await connect(t.mqttUrl, creds)
    const facts = [cupEmpty(1), cupEmpty(1, 'hall', 'door-cup'), cupEmpty(2)]
    for (const f of facts) await c.publishAsync(`${f.subject}/fact/empty`, JSON.stringify(f), { qos: 1 })
    const all = await runCli(['facts', 'tail', '--json', '--data-dir', data])
    expect(all.stdout.trim().split('\n').map((l) => JSON.parse(l).fact.id)).toStrictEqual(facts.map((f) => f.id))
    const after = await runCli(['facts', 'tail', '--after', '1', '--topic', 'home/kitchen/#', '--data-dir', data])
    expect(after.stdout).toBe(`#3  ${facts[2]!.time}  home/kitchen/lily-cup/fact/empty  cup.empty  {"level":0.02}\n`)
    const follow = spawn(process.execPath, [BIN, 'facts', 'tail', '--follow', '--json', '--after', '3', '--data-dir', data])
    const lines = createInterface({ input: follow.stdout })
    const next = new Promise<string>((resolve) => lines.once('line', resolve))
    const live = cupEmpty(3)
    await c.publishAsync('home/kitchen/lily-cup/fact/empty', JSON.stringify(live), { qos: 1 })
    const entry = JSON.parse(await next)
    expect(entry).toStrictEqual({ offset: 4, topic: 'home/kitchen/lily-cup/fact/empty', receivedAt: expect.any(String), clientId: expect.any(String), fact: live })
    follow.kill('SIGINT')
    expect(await new Promise((resolve) => follow.once('exit', resolve))).toBe(0)
    await c.endAsync()
    await t.stop()
    rmSync(data, { recursive: true, force: true })
    const none = await runCli(['facts', 'tail', '--data-dir', data])
    expect(none.stderr).toBe(`homefacts: no ledger at ${join(data, 'ledger.sqlite')}: start the hub with this --data-dir first\n`)
  })
})
