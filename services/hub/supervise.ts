import type { ChildProcess } from 'node:child_process'

const FIRST_MS = 1000
const MAX_MS = 30_000

/**
 * When a child process that exited starts again: after 1 s, doubling up to 30 s, and after 1 s
 * again once a run lasted `healthyMs`, so a crash loop backs off and a rare crash restarts soon.
 */
export class Backoff {
  #ms = FIRST_MS
  #since = 0
  #timer: ReturnType<typeof setTimeout> | null = null
  readonly #healthyMs: number

  constructor (healthyMs: number) {
    this.#healthyMs = healthyMs
  }

  /** The run is healthy: the next pause is the first one again. */
  reset (): void {
    this.#ms = FIRST_MS
  }

  /** Runs `restart` after the pause, which it returns (ms), and doubles the next pause. */
  schedule (restart: () => void): number {
    if (Date.now() - this.#since >= this.#healthyMs) this.reset()
    const ms = this.#ms
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#since = Date.now()
      restart()
    }, ms)
    this.#ms = Math.min(ms * 2, MAX_MS)
    return ms
  }

  cancel (): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
  }
}

/** Sends SIGTERM, then SIGKILL after `graceMs` (calling `onKill` first), and resolves once the child exited. */
export async function stopChild (child: ChildProcess, graceMs: number, onKill?: () => void): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => {
    onKill?.()
    child.kill('SIGKILL')
  }, graceMs)
  await exited
  clearTimeout(timer)
}
