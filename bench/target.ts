import { createServer, type AddressInfo } from 'node:net'
import mqtt from 'mqtt'
import type { BenchCredentials } from './protocol.ts'

/** One GC pause in a broker process (bench/probe.mjs). */
export interface GcPause {
  /** Start, epoch ms (performance.timeOrigin + startTime). */
  at: number
  ms: number
  kind: string
}

/** What bench/probe.mjs reports: since its last report, in ms. */
export interface ProbeReport {
  loopDelay: { p50: number, p99: number, max: number }
  gc: GcPause[]
  /** The highest of each `process.memoryUsage()` figure and of each V8 heap space's size (`new_space`, `old_space`, ...) since the last report, in MB. */
  memory: Record<string, number>
}

/** A broker under test, in a process of its own. */
export interface Broker {
  readonly name: string
  readonly url: string
  readonly pid: number
  /** From the spawn to the first CONNACK, ms. */
  readonly coldStartMs: number
  probe?: () => Promise<ProbeReport>
  stop: () => Promise<void>
}

/** One column of the table: a broker, and who the load is on it and on which topics. */
export interface Target {
  readonly column: string
  readonly broker: Broker
  readonly url: string
  /** '' on the contract's own topics (`home/...`); 'plain/' puts the same payloads outside it. */
  readonly prefix: '' | 'plain/'
  /** The publisher, the subscriber and the household responder (none: anonymous). */
  readonly device?: BenchCredentials | undefined
  readonly reader?: BenchCredentials | undefined
  readonly responder?: BenchCredentials | undefined
}

/** A loopback TCP port that was free a moment ago. */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * Connects again every 10 ms until the broker answers CONNACK 0; resolves with the
 * `performance.now()` of that CONNACK.
 */
export async function untilConnack (url: string, creds: BenchCredentials | undefined, ms: number): Promise<number> {
  const end = performance.now() + ms
  for (;;) {
    const at = await new Promise<number | null>((resolve) => {
      const c = mqtt.connect(url, { clientId: `bench-cold-${Date.now()}`, reconnectPeriod: 0, connectTimeout: 5_000, ...(creds ?? {}) })
      c.once('connect', () => { const t = performance.now(); c.end(true); resolve(t) })
      c.once('error', () => { c.end(true); resolve(null) })
      c.once('close', () => resolve(null))
    })
    if (at !== null) return at
    if (performance.now() > end) throw new Error(`${url}: no CONNACK within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
