import { describe, expect, it } from 'vitest'
import { retryDelay } from '../../devices/backoff.ts'

describe('the reconnect backoff', () => {
  const backoff = { minMs: 1000, maxMs: 30_000 }

  it('doubles from the first delay and stops at the cap', () => {
    const middle = (): number => 0.5
    expect([1, 2, 3, 4, 5, 6, 7, 50, 5000].map((n) => retryDelay(n, backoff, middle))).toStrictEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000])
  })

  it('spreads each delay by ±20 % without ever passing the cap', () => {
    expect([retryDelay(1, backoff, () => 0), retryDelay(1, backoff, () => 0.999999)]).toStrictEqual([800, 1200])
    expect([retryDelay(6, backoff, () => 0), retryDelay(6, backoff, () => 0.999999)]).toStrictEqual([24_000, 30_000])
  })
})
