import { spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { HubConfig } from './config.ts'
import type { Credentials } from './secrets.ts'
import { PACKAGE_ROOT } from '../lib/package-root.ts'
import { commandShebang } from '../lib/shebang.ts'
import { Backoff, stopChild } from './supervise.ts'

const BIN = join(PACKAGE_ROOT, 'bin', 'homefacts.js')
const GRACE_MS = 10_000

/** What a supervised child tells the hub over its IPC channel once it serves (`shop-service.ts`). */
export interface ChildStarted {
  started: string
  url?: string
}

export interface ChildrenOptions {
  /** The services to run, each as `homefacts service <name>`. */
  names: readonly string[]
  config: HubConfig
  log: Logger
  /** The MQTT account of a service, created by the hub on first use. */
  credentials: (name: string) => Promise<Credentials>
  /** The secret the hub's proxy sends to the shop APIs. */
  proxySecret: () => string
}

interface Slot {
  name: string
  child: ChildProcess | null
  backoff: Backoff
}

/**
 * Runs the shop services as child processes of the hub, each with its own MQTT account, restarted
 * with backoff when it exits. A child whose hub dies, even by `kill -9`, sees its IPC channel close
 * and exits by itself. Emits `started` (name, pid, url) and `exit` (name, code, signal).
 */
export class Children extends EventEmitter {
  #opts: ChildrenOptions
  #slots = new Map<string, Slot>()
  #stopping = false
  #mqttUrl = ''
  #killOnExit = (): void => { for (const s of this.#slots.values()) s.child?.kill('SIGKILL') }

  constructor (opts: ChildrenOptions) {
    super()
    this.#opts = opts
  }

  /** Creates each account and spawns each child; resolves once spawned (they start in the background). */
  async start (mqttUrl: string): Promise<void> {
    this.#stopping = false
    this.#mqttUrl = mqttUrl
    process.on('exit', this.#killOnExit)
    for (const name of this.#opts.names) {
      const slot: Slot = { name, child: null, backoff: new Backoff(30_000) }
      this.#slots.set(name, slot)
      await this.#spawn(slot)
    }
  }

  async #args (name: string): Promise<{ args: string[], password: string }> {
    const { config } = this.#opts
    const creds = await this.#opts.credentials(name)
    // The flags on the command's shebang, which a spawn through `process.execPath` would skip (its variables are inherited).
    const args = [...commandShebang().flags, BIN, 'service', name, '--broker', this.#mqttUrl, '--username', creds.username, '--data-dir', config.dataDir]
    if (name === 'orders' || name === 'customers') args.push('--host', config[name].host, '--port', String(config[name].port))
    if (name === 'notifications' && config.notifications.webhookUrl) args.push('--webhook-url', config.notifications.webhookUrl)
    return { args, password: creds.password }
  }

  async #spawn (slot: Slot): Promise<void> {
    const { log } = this.#opts
    let spec: { args: string[], password: string }
    try {
      spec = await this.#args(slot.name)
    } catch (err) {
      log.error({ err, service: slot.name }, `${slot.name} not started: ${(err as Error).message}`)
      if (!this.#stopping) slot.backoff.schedule(() => void this.#spawn(slot))
      return
    }
    if (this.#stopping) return
    // The password and the proxy secret go in the environment, not on the command line that `ps` shows.
    const child = spawn(process.execPath, spec.args, {
      // The hub's log level and format: a child's lines read like the hub's (pretty on a terminal, JSON otherwise).
      env: { ...process.env, HOMEFACTS_SERVICE_PASSWORD: spec.password, HOMEFACTS_PROXY_SECRET: this.#opts.proxySecret(), HOMEFACTS_LOG_LEVEL: this.#opts.config.log.level, ...(this.#opts.config.log.pretty !== undefined ? { HOMEFACTS_LOG_PRETTY: String(this.#opts.config.log.pretty) } : {}) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    slot.child = child
    child.on('message', (msg: ChildStarted) => {
      if (msg?.started !== slot.name) return
      log.info({ service: slot.name, pid: child.pid, url: msg.url }, `${slot.name} running as process ${child.pid}${msg.url ? ` at ${msg.url}` : ''}`)
      this.emit('started', slot.name, child.pid, msg.url)
    })
    child.on('error', (err) => log.error({ err, service: slot.name }, `${slot.name} could not be started: ${err.message}`))
    child.on('exit', (code, signal) => {
      slot.child = null
      this.emit('exit', slot.name, code, signal)
      if (this.#stopping) return
      const ms = slot.backoff.schedule(() => void this.#spawn(slot))
      log.error({ service: slot.name, pid: child.pid, code, signal }, `${slot.name} (process ${child.pid}) exited (${signal ?? `code ${code}`}); restarting it in ${ms / 1000} s`)
    })
  }

  /** Stops every child (SIGTERM, then SIGKILL after the grace) and waits for each to exit. */
  async stop (): Promise<void> {
    this.#stopping = true
    process.off('exit', this.#killOnExit)
    await Promise.all([...this.#slots.values()].map(async ({ name, child, backoff }) => {
      backoff.cancel()
      if (!child) return
      await stopChild(child, GRACE_MS, () => this.#opts.log.warn({ service: name, pid: child.pid }, `${name} did not stop within ${GRACE_MS / 1000} s; killing it`))
    }))
    this.#slots.clear()
  }
}
