/**
 * The time a device sees. Injected so debounce and scripted timelines can be driven by a
 * fake clock in tests while the broker and MQTT clients keep real time.
 */
export interface Clock {
  now: () => number
  setTimeout: (fn: () => void, ms: number) => unknown
  clearTimeout: (handle: unknown) => void
}

/** Real time. Looks the globals up on each call, so `vi.useFakeTimers()` also reaches it. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout)
}

/** Waits for `p`, but no longer than `ms` of real time (a broker that is gone never answers). */
export async function waitAtMost (p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([p, new Promise((resolve) => { timer = setTimeout(resolve, ms) })])
  clearTimeout(timer)
}
