import { spawn, type ChildProcess } from 'node:child_process'
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import type { Logger } from 'pino'
import type { HubConfig } from './config.ts'
import type { Credentials } from './secrets.ts'
import { PACKAGE_ROOT } from '../lib/package-root.ts'
import { Backoff, stopChild } from './supervise.ts'

/** The repo's default flows, the settings of the hub's Node-RED and the homefacts node package. */
export const NODE_RED_FILES = Object.freeze({
  defaultFlows: join(PACKAGE_ROOT, 'flows/flows.json'),
  settings: join(PACKAGE_ROOT, 'flows/settings.cjs'),
  nodes: join(PACKAGE_ROOT, 'flows/nodes'),
  redJs: createRequire(import.meta.url).resolve('node-red/red.js')
})
const PACKAGE = 'node-red-contrib-homefacts'

export interface NodeRedOptions {
  config: HubConfig
  log: Logger
  usersFile: string
  /** The `nodered` MQTT account, created by the hub on first use. */
  credentials: () => Promise<Credentials>
  /** The key of Node-RED's credentials file, kept by the hub. */
  credentialSecret: () => string
  /** The household's members now (the config section and the member users). */
  members: () => readonly { name: string }[]
}

/**
 * Runs Node-RED 4 as a child process of the hub: seeds the flows on first run (never overwrites
 * them), checks the flows file and the port before each start, reports missing node types (Node-RED
 * would wait for them forever, logging at info level only) and restarts it with backoff.
 */
export class NodeRed extends EventEmitter {
  readonly userDir: string
  readonly flowsFile: string
  /** Each problem reported, as the one line logged (newest last). */
  readonly problems: string[] = []
  #opts: NodeRedOptions
  #child: ChildProcess | null = null
  #stopping = false
  #backoff = new Backoff(60_000)
  #port = 0
  #mqttUrl = ''
  #killOnExit = (): void => { this.#child?.kill('SIGKILL') }

  constructor (opts: NodeRedOptions) {
    super()
    this.#opts = opts
    this.userDir = resolve(opts.config.dataDir, 'node-red')
    this.flowsFile = join(this.userDir, 'flows.json')
  }

  /** The editor's URL, once started. */
  get url (): string {
    const host = this.#opts.config.nodeRed.host
    return `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${this.#port}/`
  }

  get running (): boolean {
    return this.#child !== null
  }

  /** The child's process id while it runs. */
  get pid (): number | undefined {
    return this.#child?.pid
  }

  /** Prepares the user dir and spawns Node-RED; resolves once spawned (it starts in the background). */
  async start (mqttUrl: string): Promise<void> {
    const { log, config } = this.#opts
    if (!config.nodeRed.enabled) {
      log.info('Node-RED is off (nodeRed.enabled)')
      return
    }
    this.#stopping = false
    this.#mqttUrl = mqttUrl
    if (!existsSync(join(NODE_RED_FILES.nodes, 'lib/homefacts.cjs'))) {
      return this.#notStarted(`Node-RED not started: the homefacts nodes are not built (${join(NODE_RED_FILES.nodes, 'lib/homefacts.cjs')} is missing); run npm run build`)
    }
    mkdirSync(join(this.userDir, 'node_modules'), { recursive: true })
    this.#linkPackage()
    // Every start: the `nodered` user exists, with the members the config allows it to claim as.
    const creds = await this.#opts.credentials()
    if (!existsSync(this.flowsFile)) this.#seed(creds)
    const broken = flowsProblem(this.flowsFile)
    if (broken) return this.#notStarted(`Node-RED not started: the flows file ${this.flowsFile} is broken (${broken}); fix it or remove it to get the default flows again`)
    const port = await freePort(config.nodeRed.host, config.nodeRed.port)
    if (port === null) {
      return this.#notStarted(`Node-RED not started: port ${config.nodeRed.port} on ${config.nodeRed.host} is already in use (nodeRed.port); choose another port with --node-red-port or HOMEFACTS_NODE_RED_PORT`)
    }
    this.#port = port
    process.on('exit', this.#killOnExit)
    this.#spawn()
    log.info({ url: this.url }, `Node-RED editor at ${this.url}`)
  }

  #notStarted (message: string): void {
    this.#problem(message)
    this.emit('not-started', message)
  }

  #problem (message: string, fields: Record<string, unknown> = {}): void {
    this.problems.push(message)
    this.#opts.log.error(fields, message)
  }

  /** The package is linked into the user dir, so Node-RED loads it as a module (with its examples). */
  #linkPackage (): void {
    const link = join(this.userDir, 'node_modules', PACKAGE)
    try {
      if (lstatSync(link).isSymbolicLink() && readlinkSync(link) === NODE_RED_FILES.nodes) return
      rmSync(link, { recursive: true, force: true })
    } catch {}
    symlinkSync(NODE_RED_FILES.nodes, link, 'dir')
  }

  /** First run: the default flows, with the `nodered` user's credentials in every homefacts broker node. */
  #seed (creds: Credentials): void {
    const flows = JSON.parse(readFileSync(NODE_RED_FILES.defaultFlows, 'utf8')) as { id: string, type: string }[]
    const all = Object.fromEntries(flows.filter((n) => n.type === 'homefacts-broker').map((n) => [n.id, { username: creds.username, password: creds.password }]))
    copyFileSync(NODE_RED_FILES.defaultFlows, this.flowsFile)
    writeFileSync(join(this.userDir, 'flows_cred.json'), JSON.stringify(encryptCredentials(this.#opts.credentialSecret(), all)) + '\n', { mode: 0o600 })
    this.#opts.log.info({ flows: this.flowsFile }, 'seeded the Node-RED flows from flows/flows.json')
  }

  #spawn (): void {
    const { config, log, usersFile, credentialSecret } = this.#opts
    const child = spawn(process.execPath, [NODE_RED_FILES.redJs, '--settings', NODE_RED_FILES.settings, '--userDir', this.userDir], {
      env: {
        ...process.env,
        HOMEFACTS_MQTT_URL: this.#mqttUrl,
        HOMEFACTS_DATA_DIR: resolve(config.dataDir),
        // The household's members, for the flows' presence checks (`${HOMEFACTS_MEMBERS}`).
        HOMEFACTS_MEMBERS: this.#opts.members().map((m) => m.name).join(','),
        HOMEFACTS_HOUSEHOLD_LOG: join(resolve(config.dataDir), 'household.log'),
        HOMEFACTS_NR_PORT: String(this.#port),
        HOMEFACTS_NR_HOST: config.nodeRed.host,
        HOMEFACTS_NR_USERS_FILE: resolve(usersFile),
        HOMEFACTS_NR_CREDENTIAL_SECRET: credentialSecret(),
        HOMEFACTS_NR_WATCH_PARENT: '1'
      },
      stdio: ['pipe', 'pipe', 'pipe']
    })
    this.#child = child
    const missing: string[] = []
    let waiting = false
    let flush: ReturnType<typeof setTimeout> | null = null
    const onLine = (line: string): void => {
      log.debug({ nodeRed: line }, 'node-red')
      if (/\[error\]/.test(line) || /^Error/.test(line)) log.warn({ nodeRed: line }, 'Node-RED reported an error')
      if (line.includes('Started flows')) {
        this.#backoff.reset()
        this.emit('started')
      } else if (line.includes('Waiting for missing types to be registered')) {
        waiting = true
      } else if (waiting && /\]\s+-\s+(\S+)\s*$/.test(line)) {
        missing.push(/\]\s+-\s+(\S+)\s*$/.exec(line)![1]!)
        // The types come one per line and then Node-RED waits silently: report them as one line.
        if (flush) clearTimeout(flush)
        flush = setTimeout(() => {
          this.#problem(`Node-RED flows not started: they need node types that are not installed: ${missing.join(', ')}; install them in ${this.userDir} or remove those nodes`, { types: missing })
          this.emit('missing-types', [...missing])
        }, 100)
      } else if (/EADDRINUSE|address already in use/i.test(line)) {
        this.#problem(`Node-RED could not listen: port ${this.#port} on ${config.nodeRed.host} is already in use (nodeRed.port); choose another port with --node-red-port or HOMEFACTS_NODE_RED_PORT`)
      }
    }
    createInterface({ input: child.stdout! }).on('line', onLine)
    createInterface({ input: child.stderr! }).on('line', onLine)
    child.stdin!.on('error', () => {})
    child.on('exit', (code, signal) => {
      if (flush) clearTimeout(flush)
      this.#child = null
      this.emit('exit', code, signal)
      if (this.#stopping) return
      const ms = this.#backoff.schedule(() => this.#spawn())
      this.#problem(`Node-RED exited (${signal ?? `code ${code}`}); restarting it in ${ms / 1000} s`, { code, signal })
    })
  }

  /** Stops Node-RED (SIGTERM, then SIGKILL after 10 s) and waits for it to exit. */
  async stop (): Promise<void> {
    this.#stopping = true
    this.#backoff.cancel()
    process.off('exit', this.#killOnExit)
    if (this.#child) await stopChild(this.#child, 10_000)
  }
}

/** Why a flows file cannot be loaded, or `null` when it is a JSON array of nodes. */
export function flowsProblem (file: string): string | null {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    return (err as Error).message
  }
  return Array.isArray(value) ? null : 'it is not a JSON array of nodes'
}

/** Node-RED's credentials file format: aes-256-ctr with sha256(secret), IV in hex then base64 (@node-red/runtime credentials.js). */
export function encryptCredentials (secret: string, credentials: unknown): { $: string } {
  const key = createHash('sha256').update(secret).digest()
  const iv = randomBytes(16)
  const cipher = createCipheriv('aes-256-ctr', key, iv)
  return { $: iv.toString('hex') + cipher.update(JSON.stringify(credentials), 'utf8', 'base64') + cipher.final('base64') }
}

/** The port to use (a free one for 0), or `null` when it is in use. */
function freePort (host: string, port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(null))
    server.listen(port, host, () => {
      const addr = server.address()
      server.close(() => resolve(typeof addr === 'object' && addr ? addr.port : port))
    })
  })
}
