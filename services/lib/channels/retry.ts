import pRetry, { type RetryContext } from 'p-retry'
import { ChannelGoneError } from './channel.ts'

export interface RetryOptions {
  /** Attempts in all, the first included (default: until it works or `signal` aborts). */
  attempts?: number
  /** Pause after the first failure; it doubles up to `maxMs`. */
  firstMs?: number
  maxMs?: number
  signal?: AbortSignal
  /** Called before each pause, not after the last attempt or a final error. */
  onRetry?: (failure: RetryContext) => void
}

/**
 * Runs `op` until it resolves, with a doubling pause between attempts (p-retry); a
 * `ChannelGoneError` is final. An aborted signal rejects, unless an attempt succeeded meanwhile:
 * the notice went out.
 */
export async function withRetry<T> (op: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  let succeeded: { value: T } | undefined
  const attempt = async (): Promise<T> => {
    const value = await op()
    succeeded = { value }
    return value
  }
  return await pRetry(attempt, {
    retries: (opts.attempts ?? Infinity) - 1,
    minTimeout: opts.firstMs ?? 500,
    maxTimeout: opts.maxMs ?? 30_000,
    ...(opts.signal ? { signal: opts.signal } : {}),
    shouldRetry: (failure) => {
      if (failure.error instanceof ChannelGoneError) return false
      opts.onRetry?.(failure)
      return true
    }
  }).catch((err: unknown) => {
    if (succeeded) return succeeded.value
    throw err
  })
}
