import type { ChildProcess } from 'node:child_process'

/**
 * When a child process that exited starts again: after 1 s, doubling up to 30 s, and after 1 s
 * again once a run lasted `healthyMs`, so a crash loop backs off and a rare crash restarts soon.
 */
export class Backoff {
  #ms = 1000
  #since = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  readonly #healthyMs: number

  constructor (healthyMs: number) {
    this.#healthyMs = healthyMs
  }

  /** The run is healthy: the next pause is 1 s again. */
  reset (): void {
    this.#ms = 1000
  }

  /** Runs `restart` after the pause, which it returns (ms), and doubles the next pause. */
  schedule (restart: () => void): number {
    if (Date.now() - this.#since >= this.#healthyMs) this.reset()
    const ms = this.#ms
    this.#timer = setTimeout(() => {
      this.#since = Date.now()
      restart()
    }, ms)
    this.#ms = Math.min(ms * 2, 30_000)
    return ms
  }

  cancel (): void {
    clearTimeout(this.#timer)
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
