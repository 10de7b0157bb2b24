import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, onTestFinished } from 'vitest'
import { Aedes, type AedesOptions } from 'aedes'
import AsyncMemory from 'aedes-persistence/asyncPersistence.js'
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt'
import { Inbox } from '../helpers/mqtt.ts'
import { SessionStore } from '../../broker/session-store.ts'

/** A plain patched aedes (no homefacts hooks) on an ephemeral loopback port, as a patch's upstream test would run it. */
export interface PlainAedes {
  broker: Aedes
  url: string
  close: () => Promise<void>
}

type Persistence = NonNullable<AedesOptions['persistence']>

/**
 * The stores a patch is proven on: aedes-persistence's in-memory one (11, with `cleanIncoming`)
 * and the hub's SQLite one. Each call makes a new, empty store.
 */
export const stores: Record<string, () => { persistence: Persistence, cleanup: () => void }> = {
  memory: () => ({ persistence: new AsyncMemory() as unknown as Persistence, cleanup: () => {} }),
  sqlite: () => {
    const dir = mkdtempSync(join(tmpdir(), 'homefacts-aedes-'))
    return { persistence: new SessionStore(join(dir, 'sessions.sqlite')) as unknown as Persistence, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
  }
}

/**
 * Starts aedes with `opts` (on the in-memory store unless `opts.persistence` says otherwise) for
 * the test that calls it, and closes it when that test ends, if the test has not.
 */
export async function startAedes (opts: AedesOptions = {}): Promise<PlainAedes> {
  const own = opts.persistence ? null : stores.memory!()
  const broker = await Aedes.createBroker({ ...(own ? { persistence: own.persistence } : {}), ...opts })
  const server: Server = createServer(broker.handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  let closed: Promise<void> | undefined
  const close = (): Promise<void> => (closed ??= (async () => {
    // The broker first: it closes the connections a failed test left open, which server.close() waits for.
    await new Promise<void>((resolve) => broker.close(() => resolve()))
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const p = (broker as unknown as { persistence: { destroy?: () => Promise<void> } }).persistence
    await p.destroy?.()
  })())
  onTestFinished(close)
  return { broker, url: `mqtt://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, close }
}

/**
 * Declares `body`'s tests once per store, each kind in a `describe` of its own. The `start` it is
 * given starts aedes on a new, empty store of that kind, removed when the test ends.
 */
export function onEveryStore (body: (start: (opts?: AedesOptions) => Promise<PlainAedes>) => void): void {
  for (const [name, make] of Object.entries(stores)) {
    describe(`on the ${name} store`, () => body(async (opts = {}) => {
      const store = make()
      onTestFinished(store.cleanup)
      return startAedes({ ...opts, persistence: store.persistence })
    }))
  }
}

/** Connects with an inbox that listens from the start, and resolves with the CONNACK's Session Present flag. */
export function resume (url: string, opts: IClientOptions): Promise<{ client: MqttClient, inbox: Inbox, sessionPresent: boolean }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
  const inbox = new Inbox(client)
  return new Promise((resolve, reject) => {
    client.once('connect', (connack: IConnackPacket) => resolve({ client, inbox, sessionPresent: connack.sessionPresent }))
    client.once('error', reject)
  })
}

/** Ends a connection abruptly, and resolves once the broker has closed it. */
export async function drop (broker: Aedes, client: MqttClient): Promise<void> {
  const gone = new Promise<void>((resolve) => broker.once('clientDisconnect', () => resolve()))
  client.stream.destroy()
  await gone
}

/** A latch: `wait` resolves once `open` is called. */
export function gate (): { wait: Promise<void>, open: () => void } {
  let open: () => void = () => {}
  const wait = new Promise<void>((resolve) => { open = resolve })
  return { wait, open }
}
