import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Credentials } from '../../services/hub/secrets.ts'

export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'homefacts.js')

export interface HubProcess {
  proc: ChildProcess
  mqttUrl: string
  httpUrl: string
  /** The admin account the first run created. */
  admin: Credentials
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<number | NodeJS.Signals>
  output: () => string
  /** Resolves with the first JSON log line (already printed, or to come) that `match` accepts. */
  waitForLog: <T = Record<string, unknown>>(match: (entry: T) => boolean, ms?: number) => Promise<T>
}

/** The hub's log line for a child service that serves: `<name> running as process <pid>`. */
export interface Running { service: string, pid: number, url?: string, msg: string }

/** Matches the `Running` line of `name`, from a process other than `not`. */
export const isRunning = (name: string, not?: number) => (e: Partial<Running>): boolean =>
  e.service === name && typeof e.pid === 'number' && e.pid !== not && e.msg?.startsWith(`${name} running as process`) === true

/** The arguments of `homefacts start` on ephemeral loopback ports, without Node-RED and the shop's children. */
export function startArgs (dir: string, extra: string[] = []): string[] {
  return ['start', '--data-dir', dir, '--mqtt-host', '127.0.0.1', '--mqtt-port', '0', '--http-host', '127.0.0.1', '--http-port', '0', '--https-host', '127.0.0.1', '--https-port', '0', '--https-enabled', 'false', '--mqtts-enabled', 'false', '--orders-port', '0', '--customers-port', '0', '--log-pretty', 'false', '--node-red-enabled', 'false', '--shop-enabled', 'false', ...extra]
}

/**
 * Runs `homefacts start` in a child process on ephemeral loopback ports, as `npm start` does (the
 * command itself, so Node gets the flags on its shebang); resolves when it is up.
 */
export async function startHubProcess (dir: string, extra: string[] = []): Promise<HubProcess> {
  const proc = spawn(BIN, startArgs(dir, extra), { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const entries: Record<string, unknown>[] = []
  const waiters = new Set<(entry: Record<string, unknown>) => void>()
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | NodeJS.Signals>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal!)))
  const lines = createInterface({ input: proc.stdout! })
  const started = await new Promise<{ mqtt: string, http: string }>((resolve, reject) => {
    lines.on('line', (line) => {
      out += line + '\n'
      if (!line.startsWith('{')) return
      const entry = JSON.parse(line) as { msg?: string, mqtt: string, http: string }
      entries.push(entry)
      for (const w of waiters) w(entry)
      if (entry.msg === 'hub started') resolve(entry)
    })
    void exited.then((code) => reject(new Error(`hub exited (${code}) before it started:\n${out}`)))
  })
  const secrets = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')) as Record<string, Credentials>
  const waitForLog = <T>(match: (entry: T) => boolean, ms = 20_000): Promise<T> => {
    const seen = entries.find((e) => match(e as T))
    if (seen) return Promise.resolve(seen as T)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no such log line within ${ms} ms:\n${out}`)) }, ms)
      const check = (e: Record<string, unknown>): void => {
        if (!match(e as T)) return
        clearTimeout(timer)
        waiters.delete(check)
        resolve(e as T)
      }
      waiters.add(check)
    })
  }
  return { proc, mqttUrl: started.mqtt, httpUrl: started.http, admin: secrets.admin!, exited, output: () => out, waitForLog }
}

/** Runs the `homefacts` command to completion (or SIGKILL after `timeoutMs`) and returns its exit code and output. */
export function runCli (args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs?: number): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...(timeoutMs ? { timeout: timeoutMs, killSignal: 'SIGKILL' as const } : {}) })
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    proc.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    proc.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}
