/**
 * Failed MQTT logins per user name and per address. Up to `maxFailures` within the window cost
 * nothing; then each attempt must wait, 1 s doubling per failure, capped at the window. In memory:
 * a restart forgets them, which costs an attacker a restart of the hub they cannot cause.
 */
export class LoginThrottle {
  #max: number
  #windowMs: number
  #now: () => number
  #failures = new Map<string, { count: number, last: number }>()

  constructor (opts: { maxFailures: number, windowSeconds: number, now?: () => number }) {
    this.#max = opts.maxFailures
    this.#windowMs = opts.windowSeconds * 1000
    this.#now = opts.now ?? Date.now
  }

  /** Seconds to wait before another attempt for any of these keys, or 0. */
  retryAfter (keys: readonly string[]): number {
    const now = this.#now()
    let wait = 0
    for (const key of keys) {
      const f = this.#live(key, now)
      if (!f || f.count < this.#max) continue
      const pause = Math.min(1000 * 2 ** (f.count - this.#max), this.#windowMs)
      wait = Math.max(wait, f.last + pause - now)
    }
    return wait > 0 ? Math.ceil(wait / 1000) : 0
  }

  fail (keys: readonly string[]): void {
    const now = this.#now()
    for (const key of keys) {
      const f = this.#live(key, now)
      this.#failures.set(key, { count: (f?.count ?? 0) + 1, last: now })
    }
    if (this.#failures.size > 10_000) this.#prune(now)
  }

  /** A good login clears its user name (not its address: one right password does not vouch for the others tried from there). */
  succeed (key: string): void {
    this.#failures.delete(key)
  }

  #live (key: string, now: number): { count: number, last: number } | undefined {
    const f = this.#failures.get(key)
    if (f && now - f.last > this.#windowMs) {
      this.#failures.delete(key)
      return undefined
    }
    return f
  }

  #prune (now: number): void {
    for (const key of [...this.#failures.keys()]) this.#live(key, now)
  }
}
