import type { Clock } from './clock.ts'
import type { Side } from './kinds.ts'

/** One reading: the level on a 0..1 scale and the raw value it came from. */
export interface Reading {
  level: number
  raw: number
}

export interface DetectorOptions {
  /** At or below this level the reading is on the low side (a cup: empty). */
  low: number
  /** At or above this level it is on the high side (a cup: full). Between the two is the hysteresis band. */
  high: number
  /** How long every reading must stay on a new side before the change counts. */
  debounceMs: number
  clock: Clock
  /** The side already committed (restored from the device's store), if any. */
  initial?: Side | undefined
}

/**
 * Turns a stream of noisy readings into real changes.
 *
 * Hysteresis: a reading in the band between `low` and `high` never changes the side, so a level
 * wobbling around one threshold cannot flap. Debounce: a new side is committed only when every
 * reading for `debounceMs` stays on it; one reading elsewhere cancels the candidate.
 */
export class Detector {
  readonly #opts: DetectorOptions
  #side: Side | undefined
  #candidate: { side: Side, reading: Reading, timer: unknown } | undefined
  #onChange: (side: Side, reading: Reading) => void

  constructor (opts: DetectorOptions, onChange: (side: Side, reading: Reading) => void) {
    if (!(opts.low <= opts.high)) throw new RangeError(`low threshold ${opts.low} is above high threshold ${opts.high}`)
    this.#opts = opts
    this.#side = opts.initial
    this.#onChange = onChange
  }

  /** The committed side, or `undefined` before the first settled reading. */
  get side (): Side | undefined {
    return this.#side
  }

  feed (reading: Reading): void {
    const { low, high, debounceMs, clock } = this.#opts
    // With equal thresholds (binary inputs) a reading exactly on it counts as high.
    const side: Side | undefined = reading.level >= high ? 'high' : reading.level <= low ? 'low' : undefined
    if (side === undefined || side === this.#side) return this.cancel()
    if (this.#candidate?.side === side) {
      this.#candidate.reading = reading
      return
    }
    this.cancel()
    if (debounceMs === 0) return this.#commit(side, reading)
    const candidate = { side, reading, timer: undefined as unknown }
    candidate.timer = clock.setTimeout(() => {
      this.#candidate = undefined
      this.#commit(side, candidate.reading)
    }, debounceMs)
    this.#candidate = candidate
  }

  /** Drops a pending change (a contradicting reading, or the sensor went away). */
  cancel (): void {
    if (!this.#candidate) return
    this.#opts.clock.clearTimeout(this.#candidate.timer)
    this.#candidate = undefined
  }

  #commit (side: Side, reading: Reading): void {
    this.#side = side
    this.#onChange(side, reading)
  }
}
