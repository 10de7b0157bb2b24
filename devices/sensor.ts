import type { Logger } from 'pino'
import { factName, stateTopic, thingFactTopic, thingSubject, type FactType, type ThingState } from '#contract'
import { makeFact } from '#client'
import type { Clock } from './clock.ts'
import { Controllers, type ControllerContext } from './cup/controllers.ts'
import { Detector, type Reading } from './detector.ts'
import { Kinds, stateValue, type Side } from './kinds.ts'
import type { ThingSpec } from './spec.ts'
import type { DeviceStore } from './store.ts'

export interface SensorDeps {
  store: DeviceStore
  clock: Clock
  log: Logger
  /** Called after each recorded change, to send the outbox. */
  onRecorded?: () => void
}

const round = (n: number): number => Math.round(n * 1000) / 1000

/**
 * One thing's sensing: a controller from the table feeds readings to the detector, and each
 * real change is recorded (next `seq`, fact and retained state) in the store's outbox in one
 * transaction. It never talks to the broker itself.
 */
export class Sensor {
  readonly spec: ThingSpec
  readonly subject: string
  readonly source: string
  readonly #deps: SensorDeps
  readonly #detector: Detector
  #attached = 0

  constructor (spec: ThingSpec, deps: SensorDeps) {
    this.spec = spec
    this.#deps = deps
    this.subject = thingSubject(spec.area, spec.thing)
    this.source = `devices/${spec.area}-${spec.thing}`
    const last = deps.store.memory(this.subject).state?.value
    const initial: Side | undefined = last === stateValue(spec.kind, 'low') ? 'low' : last === stateValue(spec.kind, 'high') ? 'high' : undefined
    this.#detector = new Detector({ ...spec.thresholds, debounceMs: spec.debounceMs, clock: deps.clock, initial }, (side, reading) => this.#record(side, reading))
  }

  /** The committed side, as restored or last detected. */
  get side (): Side | undefined {
    return this.#detector.side
  }

  /** Starts reading through the thing's controller (a board IO, or a simulated source). */
  attach (ctx: ControllerContext): void {
    const controller = Controllers[this.spec.controller]
    // Firmata offers no way to stop a read callback, so readings from an older attachment
    // (before the board was unplugged) are ignored by generation.
    const generation = ++this.#attached
    controller.initialize(ctx, this.spec, (raw) => {
      if (generation !== this.#attached) return
      if (typeof raw !== 'number' || !Number.isFinite(raw)) {
        this.#deps.log.warn({ subject: this.subject, raw }, 'ignored a reading that is not a number')
        return
      }
      const level = controller.toState(raw, this.spec)
      // Trace only: a Firmata board reports every 19 ms. Useful for calibrating a cup.
      this.#deps.log.trace({ subject: this.subject, raw, level }, 'reading')
      this.#detector.feed({ level, raw })
    })
  }

  /** Stops using readings (the board went away); a change still being debounced is dropped. */
  detach (): void {
    this.#attached++
    this.#detector.cancel()
  }

  #record (side: Side, reading: Reading): void {
    const { kind, area, thing } = this.spec
    const type: FactType = Kinds[kind][side]
    const data = Kinds[kind].level ? { level: round(reading.level), raw: reading.raw } : { raw: reading.raw }
    const time = new Date(this.#deps.clock.now())
    const { seq, dropped } = this.#deps.store.record(this.subject, (seq) => {
      const fact = makeFact(type, { subject: this.subject, source: this.source, seq, time, data: data as never })
      const state: ThingState = { value: stateValue(kind, side), seq, since: fact.time, factId: fact.id }
      return {
        state,
        messages: [
          { topic: thingFactTopic(area, thing, factName(type)), payload: JSON.stringify(fact), retain: false },
          { topic: stateTopic(area, thing), payload: JSON.stringify(state), retain: true }
        ]
      }
    })
    this.#deps.log.info({ subject: this.subject, type, seq, level: round(reading.level), raw: reading.raw }, 'change recorded')
    for (const row of dropped) {
      this.#deps.log.warn({ subject: this.subject, topic: row.topic, bound: this.#deps.store.maxRows }, 'outbox full: dropped the oldest queued message to stay within its bound')
    }
    this.#deps.onRecorded?.()
  }
}
