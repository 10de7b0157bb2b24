/**
 * The hub as `npm start` starts it: `bin/homefacts.js start` (so Node gets the flags on its
 * shebang) in a fresh data folder, on loopback ports, with Node-RED and the shop services off
 * unless asked for. The bench's users are written to the users file before the first start, as
 * `homefacts users add` would; everything else (the admin, the ledger, the sessions, the
 * certificates) the hub makes itself. bench/probe.mjs rides along through NODE_OPTIONS.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { UserStore } from '../broker/users.ts'
import { dataFiles } from '../services/hub/hub.ts'
import { freePort, untilConnack, type Broker, type ProbeReport, type Target } from './target.ts'
import type { BenchCredentials } from './protocol.ts'
import { commandShebang } from '../services/lib/shebang.ts'

export const BIN = join(import.meta.dirname, '..', 'bin', 'homefacts.js')
const PROBE = pathToFileURL(join(import.meta.dirname, 'probe.mjs')).href

export interface HubUsers {
  admin: BenchCredentials
  device: BenchCredentials
  reader: BenchCredentials
  responder: BenchCredentials
}

interface LogEntry { msg?: string, nodeRed?: string, service?: string }

export class HubProcess implements Broker {
  readonly name = 'homefacts'
  readonly url: string
  readonly users: HubUsers
  readonly coldStartMs: number
  /** Spawn to the "hub started" log line. */
  readonly startedMs: number
  readonly #proc: ChildProcess
  readonly #dir: string
  readonly #exited: Promise<void>
  #nextId = 1
  #pending = new Map<number, (r: ProbeReport) => void>()

  private constructor (proc: ChildProcess, dir: string, port: number, users: HubUsers, times: { coldStartMs: number, startedMs: number }, exited: Promise<void>) {
    this.#proc = proc
    this.#dir = dir
    this.url = `mqtt://127.0.0.1:${port}`
    this.users = users
    this.coldStartMs = times.coldStartMs
    this.startedMs = times.startedMs
    this.#exited = exited
    process.once('exit', this.#onExit)
    proc.on('message', (m: ProbeReport & { id: number }) => {
      this.#pending.get(m.id)?.(m)
      this.#pending.delete(m.id)
    })
  }

  /** The bench ends (its deadline, Ctrl-C, an error): the hub and its data folder go with it. */
  readonly #onExit = (): void => {
    this.#proc.kill('SIGKILL')
    rmSync(this.#dir, { recursive: true, force: true })
  }

  get pid (): number { return this.#proc.pid! }

  /** The hub as the household's plain broker (its admin, topics outside the contract) or on the fact pipeline. */
  target (column: string, on: 'plain' | 'facts'): Target {
    const u = this.users
    return on === 'plain'
      ? { column, broker: this, url: this.url, prefix: 'plain/', device: u.admin, reader: u.admin }
      : { column, broker: this, url: this.url, prefix: '', device: u.device, reader: u.reader, responder: u.responder }
  }

  /**
   * Starts a hub and resolves on its first CONNACK to the bench device user (`coldStartMs`: from
   * the spawn) and its "hub started" line; with `nodeRed`, also once Node-RED has started its flows.
   * `args` adds flags; `env` adds environment variables (`HOMEFACTS_<KEY>` config); `cpuProfDir` runs it with
   * `--cpu-prof` (the profile is written when it stops); `nodeFlags` adds Node flags after the shebang's.
   */
  static async start (opts: { nodeRed?: boolean, shop?: boolean, args?: string[], env?: NodeJS.ProcessEnv, cpuProfDir?: string, nodeFlags?: string[] } = {}): Promise<HubProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'homefacts-bench-hub-'))
    const accounts: Parameters<UserStore['addMany']>[0] = [
      { username: 'bench-device', role: 'device', things: ['+/+'] },
      { username: 'bench-reader', role: 'service' },
      { username: 'household-bench', role: 'responder', member: 'bench' }
    ]
    const passwords = await new UserStore(dataFiles(dir).users).addMany(accounts)
    const [device, reader, responder] = accounts.map((a, i) => ({ username: a.username, password: passwords[i]! })) as [BenchCredentials, BenchCredentials, BenchCredentials]
    const port = await freePort()
    const shop = opts.shop ? ['--shop-enabled', 'true', '--orders-host', '127.0.0.1', '--orders-port', '0', '--customers-host', '127.0.0.1', '--customers-port', '0'] : ['--shop-enabled', 'false']
    const nodeRed = opts.nodeRed ? ['--node-red-enabled', 'true', '--node-red-host', '127.0.0.1', '--node-red-port', '0', '--log-level', 'debug'] : ['--node-red-enabled', 'false']
    const args = ['start', '--data-dir', dir, '--mqtt-host', '127.0.0.1', '--mqtt-port', String(port), '--http-host', '127.0.0.1', '--http-port', '0',
      '--https-host', '127.0.0.1', '--https-port', '0', '--mqtts-host', '127.0.0.1', '--mqtts-port', '0', '--log-pretty', 'false', ...shop,
      // The load connects thousands of clients as one bench user, and publishes as fast as it can.
      '--limits-connections-per-user', '10000', '--limits-publishes-per-second', '1000000', '--limits-publish-burst', '1000000', ...nodeRed, ...(opts.args ?? [])]
    const env = { ...process.env, ...opts.env, HOMEFACTS_BENCH_PROBE: '1', NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import ${PROBE}`].filter(Boolean).join(' ') }
    const t0 = performance.now()
    // Node refuses --cpu-prof and most V8 flags in NODE_OPTIONS: then Node is started with the shebang's variables and flags, and those.
    const shebang = commandShebang()
    const proc = opts.cpuProfDir || opts.nodeFlags
      ? spawn(process.execPath, [...shebang.flags, ...(opts.nodeFlags ?? []), ...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : []), BIN, ...args], { env: { ...env, ...shebang.env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
      : spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
    let out = ''
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
    const failed = exited.then(() => { throw new Error(`hub exited before it started:\n${out.slice(-4000)}`) })
    proc.stderr!.on('data', (d: Buffer) => { out += d.toString() })
    const waiters: { match: (entry: LogEntry) => boolean, resolve: (ms: number) => void }[] = []
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      out += l + '\n'
      if (!l.startsWith('{')) return
      const entry = JSON.parse(l) as LogEntry
      for (const w of waiters) if (w.match(entry)) w.resolve(performance.now() - t0)
    })
    const line = (match: (entry: LogEntry) => boolean): Promise<number> => new Promise((resolve) => waiters.push({ match, resolve }))
    const started = line((e) => e.msg === 'hub started')
    const flows = opts.nodeRed
      ? Promise.race([
        line((e) => e.nodeRed?.includes('Started flows') === true),
        line((e) => /^Node-RED (flows )?not started/.test(e.msg ?? '')).then(() => { throw new Error(`the hub's Node-RED did not start:\n${out.slice(-4000)}`) }),
        new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`the hub's Node-RED did not start its flows within 90 s:\n${out.slice(-4000)}`)), 90_000).unref())
      ])
      : null
    const children = opts.shop ? Promise.all(['orders', 'customers', 'notifications'].map((name) => line((e) => e.service === name && /running as process/.test(e.msg ?? '')))) : null
    try {
      const coldStartMs = await Promise.race([untilConnack(`mqtt://127.0.0.1:${port}`, device, 60_000), failed]) - t0
      const startedMs = await Promise.race([started, failed])
      if (flows) await Promise.race([flows, failed])
      if (children) await Promise.race([children, failed])
      const secrets = JSON.parse(readFileSync(dataFiles(dir).secrets, 'utf8')) as Record<string, BenchCredentials>
      return new HubProcess(proc, dir, port, { admin: secrets.admin!, device, reader, responder }, { coldStartMs, startedMs }, exited)
    } catch (err) {
      proc.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
      throw err
    }
  }

  /** The event-loop delay, GC pauses and most memory since the last call (bench/probe.mjs). */
  probe (): Promise<ProbeReport> {
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the hub did not answer the probe')), 30_000)
      this.#pending.set(id, (r) => { clearTimeout(timer); resolve(r) })
      this.#proc.send({ type: 'probe', id })
    })
  }

  /** The ledger's last offset, read from its file as `homefacts facts tail` does. */
  ledgerOffset (): number {
    const db = new Database(dataFiles(this.#dir).ledger, { readonly: true, fileMustExist: true })
    try {
      return (db.prepare('SELECT MAX(offset) AS o FROM facts').get() as { o: number | null }).o ?? 0
    } finally {
      db.close()
    }
  }

  /** SIGTERM, as Ctrl-C stops it; then the data folder goes. */
  async stop (): Promise<void> {
    process.off('exit', this.#onExit)
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) {
      const killer = setTimeout(() => this.#proc.kill('SIGKILL'), 20_000)
      this.#proc.kill('SIGTERM')
      await this.#exited
      clearTimeout(killer)
    }
    rmSync(this.#dir, { recursive: true, force: true })
  }
}
