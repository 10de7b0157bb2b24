import { setTimeout as sleep } from 'node:timers/promises'
import { ChannelGoneError } from './channel.ts'

export interface RetryOptions {
  /** Attempts in all, the first included (default: until it works or `signal` aborts). */
  attempts?: number
  /** Pause after the first failure; it doubles up to `maxMs`. */
  firstMs?: number
  maxMs?: number
  signal?: AbortSignal
  onRetry?: (err: unknown, waitMs: number, attempt: number) => void
}

/**
 * Runs `op` until it resolves, with a doubling pause between attempts. A `ChannelGoneError` is
 * final (the address is gone for good), and so is the last allowed attempt; an aborted signal
 * stops the waiting and rethrows the last error.
 */
export async function withRetry<T> (op: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? Infinity
  let wait = opts.firstMs ?? 500
  for (let attempt = 1; ; attempt++) {
    try {
      return await op()
    } catch (err) {
      if (err instanceof ChannelGoneError || attempt >= attempts || opts.signal?.aborted) throw err
      opts.onRetry?.(err, wait, attempt)
      try {
        await sleep(wait, undefined, opts.signal ? { signal: opts.signal } : {})
      } catch {
        throw err
      }
      wait = Math.min(wait * 2, opts.maxMs ?? 30_000)
    }
  }
}
