import { once } from 'node:events'
import type { Logger } from 'pino'
import { waitAtMost } from './clock.ts'
import { Device } from './device.ts'
import { HIGH_LEVEL, LOW_LEVEL } from './simulate-input.ts'
import { toSpec, ThingEntry } from './spec.ts'

/** One simulated thing of the fleet, with its own device login. */
export interface FleetMember {
  username: string
  password: string
  area: string
  thing: string
}

export interface FleetOptions {
  url: string
  members: FleetMember[]
  /** Changes per second across the whole fleet. */
  rate: number
  /** The run stops by itself after this long. */
  durationMs: number
  log: Logger
  /** How many things connect at once while the fleet comes up (each first login costs the hub one scrypt). */
  connectBatch?: number
}

/** What a run did. */
export interface FleetSummary {
  things: number
  connectMs: number
  runMs: number
  recorded: number
  /** Messages still waiting in outboxes when the run stopped. */
  pending: number
  ratePerSecond: number
}

/**
 * The fleet simulator: many simulated cups, each its own device with its own login, changing at
 * a bounded total rate for a bounded time. For demos and load. Nothing is kept on disk.
 */
export class Fleet {
  readonly #opts: FleetOptions
  readonly devices: Device[]
  #stop: (() => void) | undefined
  #stopped = false

  constructor (opts: FleetOptions) {
    if (!(opts.rate > 0)) throw new RangeError('rate must be above 0')
    this.#opts = opts
    this.devices = opts.members.map((m) => new Device({
      spec: toSpec(ThingEntry.parse({ kind: 'cup', area: m.area, thing: m.thing, debounceMs: 0 }), true),
      broker: { url: opts.url, username: m.username, password: m.password, backoff: { minMs: 1000, maxMs: 10_000 } },
      stateDir: ':memory:',
      log: opts.log,
      discovery: false,
      clientId: `homefacts-sim-${m.area}-${m.thing}`
    }))
  }

  /** Connects every thing (in batches), runs until the duration is over or `stop()`, then disconnects. */
  async run (): Promise<FleetSummary> {
    const { log, rate, durationMs } = this.#opts
    const batch = this.#opts.connectBatch ?? 50
    const t0 = Date.now()
    for (let i = 0; i < this.devices.length && !this.#stopped; i += batch) {
      const group = this.devices.slice(i, i + batch)
      for (const d of group) d.start()
      const up = Promise.all(group.map((d) => d.publisher.connected ? undefined : once(d.publisher, 'connect')))
      // A refused login never connects: give up waiting on the batch after a while, or on stop().
      await waitAtMost(Promise.race([up, new Promise<void>((resolve) => { this.#stop = resolve })]), 30_000)
      if (group.some((d) => !d.publisher.connected)) log.warn({ connected: this.devices.filter((d) => d.publisher.connected).length }, 'fleet: some things have not connected; going on')
      log.info({ connected: Math.min(i + batch, this.devices.length), of: this.devices.length }, 'fleet connecting')
    }
    const connectMs = Date.now() - t0
    let recorded = 0
    const t1 = Date.now()
    if (!this.#stopped) {
      // A 10 ms tick carries the fractional part over, so any rate is kept on average.
      let credit = 0
      await new Promise<void>((resolve) => {
        const tick = setInterval(() => {
          credit += rate / 100
          for (; credit >= 1; credit--) {
            const d = this.devices[Math.floor(Math.random() * this.devices.length)]!
            d.source.set(d.sensor.side === 'high' ? LOW_LEVEL : HIGH_LEVEL)
            recorded++
          }
        }, 10)
        const end = setTimeout(() => this.#stop?.(), durationMs)
        this.#stop = () => {
          clearInterval(tick)
          clearTimeout(end)
          resolve()
        }
        if (this.#stopped) this.#stop()
      })
    }
    const runMs = Date.now() - t1
    // Let what is queued go out before saying goodbye, but do not wait on a broker that is gone.
    await waitAtMost(Promise.all(this.devices.map((d) => d.publisher.drained())), 5000)
    const pending = this.devices.reduce((n, d) => n + d.store.pending(), 0)
    await Promise.all(this.devices.map((d) => d.stop()))
    return { things: this.devices.length, connectMs, runMs, recorded, pending, ratePerSecond: runMs > 0 ? Math.round(recorded / (runMs / 1000)) : 0 }
  }

  /** Ends the run early (Ctrl-C). */
  stop (): void {
    this.#stopped = true
    this.#stop?.()
  }
}
