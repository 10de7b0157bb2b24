/**
 * Mosquitto for the bench's reference column: `/usr/sbin/mosquitto` (Debian's `mosquitto`
 * package) with a config written per run in a temp folder: one listener on 127.0.0.1 at a free
 * port, anonymous clients allowed, persistence off, and no limit on queued or in-flight
 * messages (aedes has none either, so a fan-in drops nothing on any broker).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, untilConnack, type Broker } from './target.ts'

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto']

/** The mosquitto binary (`$MOSQUITTO` when set, else where Debian puts it), or null when there is none. */
export function findMosquitto (): string | null {
  for (const path of process.env.MOSQUITTO ? [process.env.MOSQUITTO] : CANDIDATES) {
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {}
  }
  return null
}

export class MosquittoProcess implements Broker {
  readonly name = 'mosquitto'
  readonly url: string
  readonly coldStartMs: number
  readonly #proc: ChildProcess
  readonly #dir: string
  readonly #exited: Promise<void>

  private constructor (proc: ChildProcess, dir: string, port: number, coldStartMs: number, exited: Promise<void>) {
    this.#proc = proc
    this.#dir = dir
    this.url = `mqtt://127.0.0.1:${port}`
    this.coldStartMs = coldStartMs
    this.#exited = exited
    process.once('exit', this.#onExit)
  }

  /** The bench ends (its deadline, Ctrl-C, an error): the broker and its folder go with it. */
  readonly #onExit = (): void => {
    this.#proc.kill('SIGKILL')
    rmSync(this.#dir, { recursive: true, force: true })
  }

  get pid (): number { return this.#proc.pid! }

  static async start (bin: string): Promise<MosquittoProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'homefacts-bench-mosquitto-'))
    const port = await freePort()
    const conf = join(dir, 'mosquitto.conf')
    writeFileSync(conf, [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'set_tcp_nodelay true',
      'max_queued_messages 0',
      'max_inflight_messages 0',
      'max_connections -1',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      ''
    ].join('\n'))
    const t0 = performance.now()
    const proc = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    proc.stderr!.on('data', (d: Buffer) => { err += d.toString() })
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
    const failed = exited.then(() => { throw new Error(`mosquitto exited before it listened:\n${err}`) })
    try {
      const coldStartMs = await Promise.race([untilConnack(`mqtt://127.0.0.1:${port}`, undefined, 20_000), failed]) - t0
      return new MosquittoProcess(proc, dir, port, coldStartMs, exited)
    } catch (e) {
      proc.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
      throw e
    }
  }

  async stop (): Promise<void> {
    process.off('exit', this.#onExit)
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) {
      this.#proc.kill('SIGTERM')
      await this.#exited
    }
    rmSync(this.#dir, { recursive: true, force: true })
  }
}
