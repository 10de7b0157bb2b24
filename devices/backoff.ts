/** Reconnect backoff: the first delay, doubled on each failed attempt up to `maxMs`. */
export interface Backoff {
  minMs: number
  maxMs: number
}

export const DEFAULT_BACKOFF: Backoff = Object.freeze({ minMs: 1000, maxMs: 30_000 })

/**
 * How long to wait after the `failures`-th failed attempt in a row (1 for the first): `minMs`
 * doubled for each failure before it, with ±20 % jitter so a fleet that lost the broker
 * together does not come back in lockstep, and never more than `maxMs`.
 */
export function retryDelay (failures: number, backoff: Backoff, random: () => number = Math.random): number {
  const base = Math.min(backoff.maxMs, backoff.minMs * 2 ** Math.max(0, failures - 1))
  return Math.min(backoff.maxMs, Math.round(base * (0.8 + random() * 0.4)))
}
