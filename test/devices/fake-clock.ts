import type { Clock } from '../../devices/clock.ts'

/**
 * A fake clock for one device. Faking the global timers would also stop the real broker and
 * MQTT clients these tests run against, so time is faked only where the device reads it.
 */
export class FakeClock implements Clock {
  #now: number
  #next = 1
  #timers = new Map<number, { at: number, fn: () => void }>()

  constructor (start = Date.parse('2026-11-29T14:00:00.000Z')) {
    this.#now = start
  }

  now = (): number => this.#now

  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.#next++
    this.#timers.set(id, { at: this.#now + ms, fn })
    return id
  }

  clearTimeout = (handle: unknown): void => {
    this.#timers.delete(handle as number)
  }

  /** Moves time on, running each timer that falls due, in order. */
  advance (ms: number): void {
    const end = this.#now + ms
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0]
      if (!due) break
      this.#timers.delete(due[0])
      this.#now = due[1].at
      due[1].fn()
    }
    this.#now = end
  }

  get pending (): number {
    return this.#timers.size
  }
}
