/** One callback waiting its turn; `settled` once its work is done. */
interface Turn<E> {
  callback: (err: E | null) => void
  settled: boolean
  err: E | null
}

/**
 * Calls callbacks back in the order they were taken, whatever order their work finishes in.
 *
 * `take(callback)` reserves the next place and returns the function that settles it; a settled
 * place is called back once every place before it has been. A place taken and settled with
 * nothing ahead of it is called back at once, synchronously, with no allocation.
 *
 * The publish hook uses it so aedes publishes and acknowledges in arrival order, whether a
 * publish waited for the ledger, for the session store, or for nothing.
 */
export class InOrder<E = Error> {
  #turns: Turn<E>[] = []
  #head = 0
  #draining = false
  readonly #onThrow: (err: unknown) => void

  /** `onThrow` hears of a callback that threw; the callbacks after it still run. */
  constructor (onThrow: (err: unknown) => void) {
    this.#onThrow = onThrow
  }

  /** How many callbacks are waiting (settled or not). */
  get waiting (): number {
    return this.#turns.length - this.#head
  }

  /** Calls `callback` now when no place is waiting, else after the places ahead of it. */
  now (callback: (err: E | null) => void, err: E | null = null): void {
    if (this.waiting === 0 && !this.#draining) return this.#call(callback, err)
    this.#turns.push({ callback, settled: true, err })
    this.#drain()
  }

  /** Reserves the next place; call the returned function (once) when its work is done. */
  take (callback: (err: E | null) => void): (err: E | null) => void {
    const turn: Turn<E> = { callback, settled: false, err: null }
    this.#turns.push(turn)
    return (err) => {
      if (turn.settled) return
      turn.settled = true
      turn.err = err
      this.#drain()
    }
  }

  #call (callback: (err: E | null) => void, err: E | null): void {
    try {
      callback(err)
    } catch (thrown) {
      this.#onThrow(thrown)
    }
  }

  #drain (): void {
    // A callback that takes or settles a place lands here again: the loop below reaches it.
    if (this.#draining) return
    this.#draining = true
    const turns = this.#turns
    while (this.#head < turns.length && turns[this.#head]!.settled) {
      const turn = turns[this.#head]!
      turns[this.#head++] = undefined as unknown as Turn<E>
      this.#call(turn.callback, turn.err)
    }
    if (this.#head === turns.length) {
      turns.length = 0
      this.#head = 0
    } else if (this.#head > 1024) {
      this.#turns = turns.slice(this.#head)
      this.#head = 0
    }
    this.#draining = false
  }
}
