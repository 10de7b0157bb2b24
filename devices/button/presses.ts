import type { Clock } from '../clock.ts'

/** A short press ("I'll do it") or a long one ("done"). */
export type Press = 'press' | 'long'

export interface PressOptions {
  /** A change of the input must hold this long to count (contact bounce). */
  debounceMs: number
  /** Held at least this long, it is a long press; it fires while the button is still held. */
  holdMs: number
  clock: Clock
}

/**
 * Turns a button's up and down readings into presses, on an injected clock. A long press fires
 * once the hold time has passed, while the button is still held (as johnny-five's `hold` event
 * does), so the person knows it took without letting go; the release after it is no press.
 */
export class PressDetector {
  readonly #opts: PressOptions
  readonly #onPress: (press: Press) => void
  /** The committed side: held down or not. */
  #down = false
  /** The last reading, committed or not. */
  #reading = false
  #held = false
  #settle: unknown
  #hold: unknown

  constructor (opts: PressOptions, onPress: (press: Press) => void) {
    this.#opts = opts
    this.#onPress = onPress
  }

  /**
   * One reading: `true` while the button is held down. A change counts once it has held for the
   * debounce time (a bouncing contact changes nothing); Firmata's repeated readings change nothing.
   */
  feed (down: boolean): void {
    const { clock, debounceMs } = this.#opts
    this.#reading = down
    if (down === this.#down) {
      clock.clearTimeout(this.#settle)
      this.#settle = undefined
      return
    }
    if (this.#settle !== undefined) return
    if (debounceMs <= 0) return this.#commit(down)
    this.#settle = clock.setTimeout(() => {
      this.#settle = undefined
      if (this.#reading !== this.#down) this.#commit(this.#reading)
    }, debounceMs)
  }

  #commit (down: boolean): void {
    const { clock, holdMs } = this.#opts
    this.#down = down
    if (down) {
      this.#held = false
      this.#hold = clock.setTimeout(() => {
        this.#held = true
        this.#onPress('long')
      }, holdMs)
      return
    }
    clock.clearTimeout(this.#hold)
    if (!this.#held) this.#onPress('press')
  }

  /** Forgets a press in progress (the board went away). */
  cancel (): void {
    this.#opts.clock.clearTimeout(this.#settle)
    this.#opts.clock.clearTimeout(this.#hold)
    this.#settle = undefined
    this.#down = false
    this.#reading = false
    this.#held = false
  }
}
