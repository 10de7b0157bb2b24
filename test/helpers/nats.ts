import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'

/** A user of the test cluster: every house gets its own. */
export interface NatsUser { user: string, password: string }

export interface NatsNode {
  name: string
  port: number
  url: string
  proc: ChildProcess | null
}

/** Three real `nats-server` processes as one JetStream cluster on loopback, with their data in a temp folder. */
export interface NatsCluster {
  nodes: NatsNode[]
  /** Every client URL, comma-separated (the `estate.servers` form). */
  servers: string
  dir: string
  /** `kill -9` of one node. */
  kill: (i: number) => void
  /** Starts a stopped node again on its ports and data. */
  restart: (i: number) => Promise<void>
  /** Stops every node (SIGKILL: the nodes' own files are what a power cut leaves). */
  stopAll: () => Promise<void>
  /** Starts every stopped node and waits for JetStream to answer. */
  startAll: () => Promise<void>
  /** Waits until JetStream answers an account info request through `url`. */
  ready: (url?: string) => Promise<void>
  close: () => Promise<void>
}

/** A free loopback port: listened on and closed (another process could take it in between, rarely). */
async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A nats-server 2.9 config: JetStream on, one cluster of three, users in the global account. */
function configOf (name: string, dir: string, port: number, routePort: number, routes: number[], users: readonly NatsUser[]): string {
  return [
    `server_name: ${name}`,
    `listen: 127.0.0.1:${port}`,
    `jetstream { store_dir: ${JSON.stringify(join(dir, name))}, max_memory_store: 64MB, max_file_store: 2GB }`,
    `cluster { name: estate, listen: 127.0.0.1:${routePort}, routes: [${routes.map((p) => `nats-route://127.0.0.1:${p}`).join(', ')}] }`,
    `authorization { users: [${users.map((u) => `{ user: ${JSON.stringify(u.user)}, password: ${JSON.stringify(u.password)} }`).join(', ')}] }`,
    ''
  ].join('\n')
}

export async function startNatsCluster (users: readonly NatsUser[]): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'homefacts-nats-'))
  const ports = await Promise.all([0, 1, 2].map(async () => ({ port: await freePort(), route: await freePort() })))
  const nodes: NatsNode[] = ports.map((p, i) => ({ name: `n${i + 1}`, port: p.port, url: `nats://127.0.0.1:${p.port}`, proc: null }))
  const files = nodes.map((n, i) => {
    mkdirSync(join(dir, n.name), { recursive: true })
    const file = join(dir, `${n.name}.conf`)
    writeFileSync(file, configOf(n.name, dir, ports[i]!.port, ports[i]!.route, ports.filter((_, j) => j !== i).map((p) => p.route), users))
    return file
  })
  const admin = users[0]!
  const start = (i: number): void => {
    const node = nodes[i]!
    if (node.proc) return
    const proc = spawn('nats-server', ['-c', files[i]!], { stdio: ['ignore', 'ignore', 'pipe'] })
    let log = ''
    proc.stderr!.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000) })
    proc.once('exit', (code, signal) => {
      if (node.proc === proc) node.proc = null
      if (code !== 0 && signal !== 'SIGKILL' && signal !== 'SIGTERM' && process.env.HOMEFACTS_TEST_LOG) console.error(`${node.name} exited ${code ?? signal}: ${log}`)
    })
    node.proc = proc
  }
  const stop = async (i: number): Promise<void> => {
    const proc = nodes[i]!.proc
    if (!proc) return
    const exited = new Promise((resolve) => proc.once('exit', resolve))
    proc.kill('SIGKILL')
    await exited
  }
  const ready = async (url = nodes.filter((n) => n.proc).map((n) => n.url).join(',')): Promise<void> => {
    const deadline = Date.now() + 30_000
    for (;;) {
      try {
        const nc = await connect({ servers: url.split(','), user: admin.user, pass: admin.password, timeout: 1000 })
        try {
          const jsm = await jetstreamManager(nc, { timeout: 2000 })
          await jsm.getAccountInfo()
          return
        } finally {
          await nc.close()
        }
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`the NATS cluster did not answer within 30 s: ${(err as Error).message}`)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }
  }
  // A test process that dies (a timed-out hook, Ctrl-C) takes its nodes with it.
  const orphans = (): void => { for (const n of nodes) n.proc?.kill('SIGKILL') }
  process.once('exit', orphans)
  for (let i = 0; i < 3; i++) start(i)
  await ready()
  return {
    nodes,
    servers: nodes.map((n) => n.url).join(','),
    dir,
    kill: (i) => { nodes[i]!.proc?.kill('SIGKILL') },
    restart: async (i) => { start(i); await ready(nodes[i]!.url) },
    stopAll: async () => { await Promise.all([0, 1, 2].map(stop)) },
    startAll: async () => { for (let i = 0; i < 3; i++) start(i); await ready() },
    ready,
    close: async () => {
      process.off('exit', orphans)
      await Promise.all([0, 1, 2].map(stop))
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
