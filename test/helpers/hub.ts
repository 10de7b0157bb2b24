import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino, type Logger } from 'pino'
import { HubConfig, loadConfig } from '../../services/hub/config.ts'
import { createHub, type Hub } from '../../services/hub/hub.ts'
import type { ServiceDefinition } from '../../services/hub/services.ts'
import type { Principal } from '../../broker/index.ts'
import type { Credentials } from '../../services/hub/secrets.ts'

export interface TestHub {
  hub: Hub
  config: HubConfig
  dir: string
  /** `mqtt://127.0.0.1:<port>`: the authenticated listener. */
  mqttUrl: string
  /** `mqtt://127.0.0.1:<port>`: the anonymous listener (admin role), when asked for. */
  anonymousUrl: string
  httpUrl: string
  wsUrl: string
  /** Adds a user and returns its credentials. */
  addUser: (user: Principal & { password?: string }) => Promise<Credentials>
  stop: () => Promise<void>
}

export interface TestHubOptions {
  /** Reuse a data folder (to restart a hub on the same state). */
  dir?: string
  anonymous?: boolean
  services?: readonly Pick<ServiceDefinition, 'name' | 'create'>[]
  /** Extra config by key, e.g. `{ 'heartbeatSeconds': 1 }`. */
  flags?: Record<string, unknown>
  /** Extra config file content (for sections with no flag, like `household`). */
  file?: Record<string, unknown>
  /** A real config file: read at start and again when it changes (the household section). */
  configFile?: string
  /** The hub's logger (default: silent, or `HOMEFACTS_TEST_LOG`). */
  log?: Logger
}

/** A real hub on ephemeral loopback ports with its data in a temp folder. */
export async function startTestHub (opts: TestHubOptions = {}): Promise<TestHub> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'homefacts-test-'))
  const sources = {
    ...(opts.configFile ? { file: opts.configFile } : {}),
    env: {},
    flags: {
      dataDir: dir,
      'mqtt.host': '127.0.0.1',
      'mqtt.port': 0,
      'http.host': '127.0.0.1',
      'http.port': 0,
      'https.host': '127.0.0.1',
      'https.port': 0,
      // Making the hub's CA and certificate costs a second or more; a test that wants HTTPS turns it on.
      'https.enabled': false,
      'mqtts.host': '127.0.0.1',
      'mqtts.port': 0,
      'mqtts.enabled': false,
      'log.level': process.env.HOMEFACTS_TEST_LOG ?? 'silent',
      ...(opts.anonymous ? { 'anonymous.port': 0 } : {}),
      // Node-RED is on by default; a test that wants it turns it on (test/flows/hub-node-red.test.ts).
      'nodeRed.enabled': false,
      // So are the shop's child processes; a test that wants them runs a hub process (test/shop/children.test.ts).
      'shop.enabled': false,
      ...opts.flags
    }
  }
  const config = loadConfig(sources)
  const merged = opts.file ? HubConfig.parse({ ...config, ...opts.file }) : config
  const hub = createHub(merged, { log: opts.log ?? pino({ level: merged.log.level }), services: opts.services ?? [], ...(opts.configFile ? { configSources: sources } : {}) })
  await hub.start()
  const urls = hub.urls
  return {
    hub,
    config: merged,
    dir,
    mqttUrl: urls.mqtt,
    anonymousUrl: `mqtt://127.0.0.1:${hub.broker.ports.anonymous ?? 0}`,
    httpUrl: urls.http,
    wsUrl: urls.ws,
    addUser: async (user) => {
      const password = await hub.users.add(user)
      return { username: user.username, password }
    },
    stop: async () => {
      await hub.stop()
      if (!opts.dir) rmSync(dir, { recursive: true, force: true })
    }
  }
}

/**
 * Resolves once the hub's broker has closed the connection of `clientId` (aedes `clientDisconnect`).
 * Call it before ending the client: a publish that meets the closing connection is delivered to
 * it, not queued for the session's next connection.
 */
export function closedByBroker (t: TestHub, clientId: string): Promise<void> {
  return new Promise((resolve) => {
    const aedes = t.hub.broker.aedes
    const on = (client: { id: string }): void => {
      if (client.id !== clientId) return
      aedes.off('clientDisconnect', on)
      resolve()
    }
    aedes.on('clientDisconnect', on)
  })
}
