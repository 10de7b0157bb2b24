/**
 * One plain aedes for the bench, alone in its process so its RSS and CPU are its own and the
 * load does not share its event loop. `node --import tsx bench/broker-process.ts <kind>`:
 *
 * - `plain`: `new Aedes()` with its in-memory persistence and no hooks;
 * - `plain-store`: the same on the hub's SQLite session store (`--attribution`).
 *
 * The hub itself runs as `npm start` runs it (bench/hub-process.ts). It listens on an ephemeral
 * loopback port with TCP_NODELAY, reports it over IPC, and answers `stop` (bench/probe.mjs
 * answers `probe`). The process ends when the parent goes away.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Aedes } from 'aedes'
import { SessionStore } from '../broker/session-store.ts'
import type { BrokerKind, Ready, Reply, Request } from './protocol.ts'

const kind = process.argv[2] as BrokerKind
if (kind !== 'plain' && kind !== 'plain-store') throw new Error(`usage: broker-process.ts plain|plain-store (got "${String(kind)}")`)
if (!process.send) throw new Error('broker-process.ts must be started with an IPC channel')

const send = (msg: Ready | Reply): void => { process.send!(msg) }

interface Running {
  ready: Ready
  stop: () => Promise<void>
}

async function startPlain (): Promise<Running> {
  // plain-store: the hub's durable session store, to tell its cost from the hooks'.
  const dir = kind === 'plain-store' ? mkdtempSync(join(tmpdir(), 'homefacts-bench-store-')) : null
  const store = dir ? new SessionStore(join(dir, 'sessions.sqlite')) : null
  const aedes = store ? new Aedes({ persistence: store }) : new Aedes()
  await aedes.listen()
  // TCP_NODELAY as on the homefacts listener, so the two differ only by what the hub adds.
  const server: Server = createServer({ noDelay: true }, aedes.handle)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return {
    ready: { type: 'ready', kind, port: (server.address() as AddressInfo).port },
    stop: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await store?.destroy()
      if (dir) rmSync(dir, { recursive: true, force: true })
    }
  }
}

const running = await startPlain()
let stopping: Promise<void> | null = null
const stop = (): Promise<void> => (stopping ??= running.stop().catch((err: unknown) => { console.error(err) }))

process.on('message', (req: Request) => {
  if (req.type === 'stop') {
    void stop().then(() => {
      send({ type: 'stopped', id: req.id })
      process.disconnect()
      // process.exit, so that --cpu-prof writes its profile.
      setImmediate(() => process.exit(0))
    })
  }
})
// The parent went away (crash, Ctrl-C): clean up and end.
process.on('disconnect', () => { void stop().then(() => process.exit(0)) })
send(running.ready)
