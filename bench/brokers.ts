import { fork, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { commandShebang } from '../services/lib/shebang.ts'
import type { BrokerKind, Ready, Reply, Request } from './protocol.ts'
import { untilConnack, type Broker, type ProbeReport, type Target } from './target.ts'

const SCRIPT = join(import.meta.dirname, 'broker-process.ts')
const PROBE = pathToFileURL(join(import.meta.dirname, 'probe.mjs')).href

/** The bench's handle on one broker process. */
export class BrokerProcess implements Broker {
  readonly kind: BrokerKind
  readonly name: string
  readonly url: string
  readonly coldStartMs: number
  #proc: ChildProcess
  #nextId = 1
  #pending = new Map<number, (r: Reply) => void>()

  private constructor (proc: ChildProcess, ready: Ready, coldStartMs: number) {
    this.#proc = proc
    this.kind = ready.kind
    this.name = ready.kind === 'plain' ? 'aedes' : ready.kind
    this.url = `mqtt://127.0.0.1:${ready.port}`
    this.coldStartMs = coldStartMs
    proc.on('message', (r: Reply | (ProbeReport & { id: number })) => {
      const done = this.#pending.get(r.id)
      this.#pending.delete(r.id)
      done?.(r as Reply)
    })
  }

  get pid (): number { return this.#proc.pid! }

  /** This broker as a column: the load connects anonymously. */
  target (column: string, prefix: Target['prefix']): Target {
    return { column, broker: this, url: this.url, prefix }
  }

  /**
   * Starts `bench/broker-process.ts <kind>`, with the Node flags and variables on the command's shebang (`commandShebang()`, so the Node brokers differ only by their code), and resolves when it listens.
   * `cpuProfDir` runs it with `--cpu-prof` (the profile is written when it stops).
   * `coldStartMs` is from the fork to the first CONNACK after it listens.
   */
  static async start (kind: BrokerKind, opts: { cpuProfDir?: string } = {}): Promise<BrokerProcess> {
    const shebang = commandShebang()
    const execArgv = [...shebang.flags, '--import', 'tsx', '--import', PROBE, ...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [])]
    const t0 = performance.now()
    const proc = fork(SCRIPT, [kind], { execArgv, env: { ...process.env, ...shebang.env, HOMEFACTS_BENCH_PROBE: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind} broker did not start within 30 s`)), 30_000)
      proc.once('message', (m: Ready) => { clearTimeout(timer); resolve(m) })
      proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${kind} broker exited (${code}) before it listened`)) })
    })
    const connack = await untilConnack(`mqtt://127.0.0.1:${ready.port}`, undefined, 20_000)
    return new BrokerProcess(proc, ready, connack - t0)
  }

  /** The event-loop delay, GC pauses and most memory since the last call (bench/probe.mjs). */
  async probe (): Promise<ProbeReport> {
    return await this.#request('probe') as unknown as ProbeReport
  }

  #request (type: Request['type']): Promise<Reply> {
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.kind} broker did not answer "${type}"`)), 60_000)
      this.#pending.set(id, (r) => { clearTimeout(timer); resolve(r) })
      this.#proc.send({ id, type } satisfies Request)
    })
  }

  /** Stops the broker gracefully and waits for its process to exit. */
  async stop (): Promise<void> {
    if (this.#proc.exitCode !== null || !this.#proc.connected) return
    const exited = new Promise<void>((resolve) => this.#proc.once('exit', () => resolve()))
    await this.#request('stop')
    await exited
  }

  kill (): void {
    if (this.#proc.exitCode === null) this.#proc.kill('SIGKILL')
  }
}
