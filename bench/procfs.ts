import { readdirSync, readFileSync } from 'node:fs'

/** What /proc says about one process (Linux): memory in bytes, CPU time in microseconds. */
export interface ProcSample {
  /** VmRSS: the resident set now. */
  rss: number
  /** VmHWM: the largest resident set since the process started. */
  peakRss: number
  /** utime + stime. */
  cpuUs: number
}

const CLOCK_TICK_US = 1e6 / 100

function statusKb (status: string, field: string): number {
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]
  return kb === undefined ? 0 : Number(kb) * 1024
}

/** utime + stime of a `stat` file (a process's or a thread's), in microseconds. */
function cpuOf (statPath: string): number {
  const stat = readFileSync(statPath, 'utf8')
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // utime and stime are fields 14 and 15 of stat(5); `fields` starts at field 3.
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_US
}

/** The process's memory and CPU time; zeros when it is gone. */
export function procSample (pid: number): ProcSample {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    return { rss: statusKb(status, 'VmRSS'), peakRss: statusKb(status, 'VmHWM'), cpuUs: cpuOf(`/proc/${pid}/stat`) }
  } catch {
    return { rss: 0, peakRss: 0, cpuUs: 0 }
  }
}

/** CPU time of the main thread and of all the others (GC helpers, worker threads, libuv's pool), and how often its threads went to sleep waiting. */
export interface ThreadSample {
  mainCpuUs: number
  otherCpuUs: number
  /** Voluntary context switches of all its threads: each is a wait, and a wake-up to be scheduled. */
  waits: number
}

export function threadSample (pid: number): ThreadSample {
  const out = { mainCpuUs: 0, otherCpuUs: 0, waits: 0 }
  let tids: string[] = []
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return out
  }
  for (const tid of tids) {
    try {
      const cpu = cpuOf(`/proc/${pid}/task/${tid}/stat`)
      if (tid === String(pid)) out.mainCpuUs += cpu
      else out.otherCpuUs += cpu
      out.waits += Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1] ?? 0)
    } catch {}
  }
  return out
}

/** The pids of a process's children, grandchildren and so on. */
export function descendants (pid: number): number[] {
  const out: number[] = []
  let tasks: string[] = []
  try {
    tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)
  } catch {
    return out
  }
  for (const t of tasks) out.push(Number(t), ...descendants(Number(t)))
  return out
}

/**
 * PSS of a process and all its descendants (the hub, Node-RED, the shop services), with the
 * number of processes: each shares its pages with the others, and PSS counts a shared page once
 * across them, so the sum is what the tree costs the machine (RSS would count the Node binary
 * once per process).
 */
export function treePss (pid: number): { bytes: number, processes: number } {
  const pids = [pid, ...descendants(pid)]
  const bytes = pids.reduce((sum, p) => {
    try {
      return sum + statusKb(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'), 'Pss')
    } catch {
      return sum
    }
  }, 0)
  return { bytes, processes: pids.length }
}
