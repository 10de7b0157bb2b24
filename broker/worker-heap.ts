import v8 from 'node:v8'
import { Worker, type WorkerOptions } from 'node:worker_threads'

const SEMI_SPACE_FLAG = /^--max[-_]semi[-_]space[-_]size=(\d+)$/

/** The process's own `--max-semi-space-size` (the command's shebang sets one), or 0: V8's default. */
function processSemiSpaceMb (): number {
  for (const arg of process.execArgv) {
    const m = SEMI_SPACE_FLAG.exec(arg)
    if (m) return Number(m[1])
  }
  return 0
}

/** Workers being created with a bound of their own; the process's flag is back once none is. */
let starting = 0

/**
 * Starts a worker thread whose young generation is at most two semi-spaces of `semiSpaceMb`.
 *
 * `resourceLimits.maxYoungGenerationSizeMb` would say so, but V8 lets its `--max-semi-space-size`
 * flag, which the command sets for the broker thread, override it. So the flag itself is set
 * while the worker's isolate is made, and set back once the worker is online (or failed). V8
 * reads it when it makes an isolate's heap; heaps made before keep their own bound.
 */
export function workerWithSemiSpace (url: URL, options: WorkerOptions, semiSpaceMb: number): Worker {
  starting++
  v8.setFlagsFromString(`--max-semi-space-size=${semiSpaceMb}`)
  let worker: Worker
  try {
    worker = new Worker(url, options)
  } catch (err) {
    restore()
    throw err
  }
  let restored = false
  const once = (): void => {
    if (restored) return
    restored = true
    restore()
  }
  worker.once('online', once)
  worker.once('error', once)
  worker.once('exit', once)
  return worker
}

function restore (): void {
  if (--starting === 0) v8.setFlagsFromString(`--max-semi-space-size=${processSemiSpaceMb()}`)
}
