import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const ROOT = join(import.meta.dirname, '..', '..')

/** A free loopback port, found by binding port 0 and letting it go. */
export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0))
    })
  })
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
  #waiters: { text: string, resolve: () => void }[] = []

  constructor (spec: ProcSpec, dir: string) {
    this.spec = spec
    this.#log = createWriteStream(join(dir, `${spec.name}.log`), { flags: 'a' })
  }

  start (): this {
    const child = spawn(process.execPath, this.spec.args, { cwd: ROOT, env: { ...process.env, HOMEFACTS_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] })
    this.#child = child
    child.stdout!.on('data', (b: Buffer) => {
      this.#log.write(b)
      this.#out += b.toString()
      this.#waiters = this.#waiters.filter((w) => this.#out.includes(w.text) ? (w.resolve(), false) : true)
    })
    child.stderr!.on('data', (b: Buffer) => this.#log.write(b))
    return this
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

/** Waits until something answers HTTP on the port (any status). */
export async function httpUp (port: number, timeoutMs = 20000): Promise<void> {
  const until = Date.now() + timeoutMs
  for (;;) {
    try {
      await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) })
      return
    } catch {
      if (Date.now() > until) throw new Error(`nothing answers on port ${port} after ${timeoutMs} ms`)
      await sleep(100)
    }
  }
}
