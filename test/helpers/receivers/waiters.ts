/** Records and waiters shared by the local receivers: `next` awaits an event, it never polls. */
export class Records<T> {
  readonly all: T[] = []
  #waiters: { test: (r: T) => boolean, from: number, resolve: (r: T) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }[] = []

  push (r: T): void {
    this.all.push(r)
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.test(r)) return true
      clearTimeout(w.timer)
      w.resolve(r)
      return false
    })
  }

  /** The first record (already seen or still to come) that matches. */
  next (test: (r: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
    const seen = this.all.find(test)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching request within ${timeoutMs} ms; got ${JSON.stringify(this.all).slice(0, 2000)}`)), timeoutMs)
      this.#waiters.push({ test, from: this.all.length, resolve, reject, timer })
    })
  }
}
