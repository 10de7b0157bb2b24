/**
 * One broker for the bench, alone in its process so its RSS and CPU are its own and the load
 * does not share its event loop. `node --import tsx --expose-gc bench/broker-process.ts <kind>`:
 *
 * - `homefacts`: the real hub (`createHub`, no services) in a temp data folder: LevelDB sessions,
 *   the SQLite ledger, the contract check, and authentication against the users file, with a
 *   bench device user (owns `+/+`), a bench service user (reads everything) and a responder user
 *   for household member `bench`.
 * - `plain`: `new Aedes()` with its in-memory persistence and no hooks.
 *
 * `homefacts` is for bench/profile.ts; `npm run bench` runs the hub as `npm start` does
 * (bench/hub-process.ts). Both listen on an ephemeral loopback port with TCP_NODELAY, report it
 * over IPC, and answer `stop` (bench/probe.mjs answers `probe`). The process ends when the parent goes away.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Aedes } from 'aedes'
import LevelPersistence from 'aedes-persistence-level/asyncPersistence.js'
import { Level } from 'level'
import { pino } from 'pino'
import { loadConfig } from '../services/hub/config.ts'
import { createHub, type Hub } from '../services/hub/hub.ts'
import type { BrokerKind, Ready, Reply, Request } from './protocol.ts'

const kind = process.argv[2] as BrokerKind
if (kind !== 'homefacts' && kind !== 'plain' && kind !== 'plain-level') throw new Error(`usage: broker-process.ts homefacts|plain|plain-level (got "${String(kind)}")`)
if (!process.send) throw new Error('broker-process.ts must be started with an IPC channel')

const send = (msg: Ready | Reply): void => { process.send!(msg) }

interface Running {
  ready: Ready
  stop: () => Promise<void>
}

async function startHomefacts (): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'homefacts-bench-'))
  const config = loadConfig({
    env: {},
    flags: {
      dataDir: dir,
      'mqtt.host': '127.0.0.1',
      'mqtt.port': 0,
      'http.host': '127.0.0.1',
      'http.port': 0,
      'https.enabled': false,
      'mqtts.enabled': false,
      'log.level': 'silent',
      'nodeRed.enabled': false,
      // The load connects thousands of clients as one bench user, and publishes as fast as it can.
      'limits.connectionsPerUser': 10_000,
      'limits.publishesPerSecond': 1_000_000,
      'limits.publishBurst': 1_000_000
    }
  })
  const hub: Hub = createHub(config, { log: pino({ level: 'silent' }), services: [] })
  await hub.start()
  const device = { username: 'bench-device', password: await hub.users.add({ username: 'bench-device', role: 'device', things: ['+/+'] }) }
  const reader = { username: 'bench-reader', password: await hub.users.add({ username: 'bench-reader', role: 'service' }) }
  const responder = { username: 'household-bench', password: await hub.users.add({ username: 'household-bench', role: 'responder', member: 'bench' }) }
  return {
    ready: { type: 'ready', kind, port: hub.broker.ports.mqtt, device, reader, responder },
    stop: async () => {
      await hub.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

async function startPlain (): Promise<Running> {
  // plain-level: the same durable session store as homefacts, to tell its cost from the hooks'.
  const dir = kind === 'plain-level' ? mkdtempSync(join(tmpdir(), 'homefacts-bench-level-')) : null
  const db = dir ? new Level(dir) : null
  await db?.open()
  const aedes = db ? new Aedes({ persistence: new LevelPersistence(db) }) : new Aedes()
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
      await db?.close()
      if (dir) rmSync(dir, { recursive: true, force: true })
    }
  }
}

const running = kind === 'homefacts' ? await startHomefacts() : await startPlain()
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
