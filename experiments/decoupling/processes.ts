import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const ROOT = join(import.meta.dirname, '..', '..')

/** Ports this process has handed out, never handed out twice. */
const handedOut = new Set<number>()
/** Below Linux's ephemeral range (32768 up), so no outgoing connection takes the port before its server binds it. */
const PORTS = { from: 20000, to: 32767 }

/**
 * A free loopback port for a process that binds it later, and binds it again when it is started
 * again after a kill: one that binds now, chosen at random below the ephemeral range, and not one
 * this process handed out before. (A port 0 bind would give one from the ephemeral range, which
 * any connection made in the meantime may take as its own local port.)
 */
export async function freePort (): Promise<number> {
  for (;;) {
    const port = PORTS.from + Math.floor(Math.random() * (PORTS.to - PORTS.from + 1))
    if (handedOut.has(port)) continue
    handedOut.add(port)
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer()
      s.once('error', () => resolve(false))
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
    })
    if (free) return port
  }
}

/** How to start one process again after it is killed: same command, same data. */
export interface ProcSpec { name: string, args: string[] }

/** A real `homefacts service <name>` process. */
export const serviceSpec = (name: string, flags: string[]): ProcSpec =>
  ({ name, args: ['--max-semi-space-size=64', join(ROOT, 'bin', 'homefacts.js'), 'service', name, ...flags] })

/** One of the experiment's own processes (the broker, the step 1 and 2 baselines). */
export const ownSpec = (name: string, role: string, opts: object): ProcSpec =>
  ({ name, args: ['--import', 'tsx', join(import.meta.dirname, 'proc.ts'), role, JSON.stringify(opts)] })

/** A running process, its output appended to `<dir>/<name>.log`, and the lines it printed. */
export class Proc {
  readonly spec: ProcSpec
  #child: ChildProcess | null = null
  #log: WriteStream
  #out = ''
  /** The end of what it printed, stdout and stderr, for a failure to show. */
  #tail = ''
  #exit: string | null = null
  #waiters: { text: string, resolve: () => void }[] = []

  constructor (spec: ProcSpec, dir: string) {
    this.spec = spec
    this.#log = createWriteStream(join(dir, `${spec.name}.log`), { flags: 'a' })
  }

  start (): this {
    const child = spawn(process.execPath, this.spec.args, { cwd: ROOT, env: { ...process.env, HOMEFACTS_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] })
    this.#child = child
    this.#exit = null
    child.once('exit', (code, signal) => { this.#exit = signal ?? `exit code ${code}` })
    const keep = (b: Buffer): void => { this.#tail = (this.#tail + b.toString()).slice(-2000) }
    child.stdout!.on('data', (b: Buffer) => {
      this.#log.write(b)
      keep(b)
      this.#out += b.toString()
      this.#waiters = this.#waiters.filter((w) => this.#out.includes(w.text) ? (w.resolve(), false) : true)
    })
    child.stderr!.on('data', (b: Buffer) => {
      this.#log.write(b)
      keep(b)
    })
    return this
  }

  /** Whether it is running (or how it ended), and the end of what it printed. */
  describe (): string {
    return `${this.spec.name} ${this.#exit ? `ended (${this.#exit})` : 'is running'}; the end of its output: ${this.#tail.trim() || '(none)'}`
  }

  /** Resolves once the process has printed `text` (since it was first started). */
  async printed (text: string, timeoutMs = 20000): Promise<void> {
    if (this.#out.includes(text)) return
    await Promise.race([
      new Promise<void>((resolve) => this.#waiters.push({ text, resolve })),
      sleep(timeoutMs).then(() => { throw new Error(`${this.spec.name} did not print "${text}" within ${timeoutMs} ms (see its log)`) })
    ])
  }

  /** `kill -9`: the process gets no chance to finish anything. */
  async kill (): Promise<void> {
    const child = this.#child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  async close (): Promise<void> {
    await this.kill()
    await new Promise((resolve) => this.#log.end(resolve))
  }
}

/** Waits until something answers HTTP on the port (any status); a failure describes `proc`, the process that should answer. */
export async function httpUp (port: number, proc?: Proc, timeoutMs = 20000): Promise<void> {
  const until = Date.now() + timeoutMs
  for (;;) {
    try {
      await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) })
      return
    } catch {
      if (Date.now() > until) throw new Error(`nothing answers on port ${port} after ${timeoutMs} ms${proc ? `: ${proc.describe()}` : ''}`)
      await sleep(100)
    }
  }
}
