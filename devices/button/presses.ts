import type { Clock } from '../clock.ts'
import { Detector } from '../detector.ts'
import type { Side } from '../kinds.ts'

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
 * Turns a button's up and down readings into presses, debounced by the things' `Detector`. A long
 * press fires once the hold time has passed, while the button is still held (as johnny-five's
 * `hold` event does), so the person knows it took without letting go; the release after it is no press.
 */
export class PressDetector {
  readonly #opts: PressOptions
  readonly #onPress: (press: Press) => void
  #detector: Detector
  #held = false
  #hold: unknown

  constructor (opts: PressOptions, onPress: (press: Press) => void) {
    this.#opts = opts
    this.#onPress = onPress
    this.#detector = this.#fresh()
  }

  /** One reading: `true` while the button is held down. Firmata's repeated readings change nothing. */
  feed (down: boolean): void {
    this.#detector.feed({ level: down ? 1 : 0, raw: down ? 1 : 0 })
  }

  #changed (side: Side): void {
    const { clock, holdMs } = this.#opts
    if (side === 'high') {
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

  /** Forgets a press in progress (the board went away): the button is up again. */
  cancel (): void {
    this.#detector.cancel()
    this.#opts.clock.clearTimeout(this.#hold)
    this.#held = false
    this.#detector = this.#fresh()
  }

  #fresh (): Detector {
    const { debounceMs, clock } = this.#opts
    return new Detector({ low: 0.5, high: 0.5, debounceMs, clock, initial: 'low' }, (side) => this.#changed(side))
  }
}
