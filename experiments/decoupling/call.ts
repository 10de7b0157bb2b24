import { setTimeout as sleep } from 'node:timers/promises'
import { PROXY_HEADERS } from '../../services/lib/http.ts'

/** The request-driven baseline's call policy: a 2 s timeout and 3 retries with backoff. */
export const CALL_POLICY = Object.freeze({ timeoutMs: 2000, retries: 3, backoffMs: [200, 400, 800] as const })

/**
 * One HTTP call with the policy: a timeout, a non-2xx answer or a refused connection is a
 * failure, tried again after 200, 400 and 800 ms. Throws the last failure after the last retry.
 */
export async function callWithRetry (url: string, init: RequestInit = {}, policy = CALL_POLICY): Promise<unknown> {
  let last: unknown
  for (let attempt = 0; attempt <= policy.retries; attempt++) {
    if (attempt > 0) await sleep(policy.backoffMs[attempt - 1] ?? 800)
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(policy.timeoutMs) })
      const text = await res.text()
      if (!res.ok) throw new Error(`${url} answered ${res.status}`)
      return text ? JSON.parse(text) as unknown : null
    } catch (err) {
      last = err
    }
  }
  throw last
}

/** The run's shop APIs trust a caller as they trust the hub's proxy: by the secret it shares with them. */
export const PROXY_SECRET = 'decoupling-proxy-secret'

/** The headers of a request from `username` with `role`, as the hub's proxy vouches for it. */
export const vouched = (username: string, role: string): Record<string, string> =>
  ({ [PROXY_HEADERS.secret]: PROXY_SECRET, [PROXY_HEADERS.user]: username, [PROXY_HEADERS.role]: role })
