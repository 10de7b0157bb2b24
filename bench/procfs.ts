import { readFileSync } from 'node:fs'

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

/** The process's memory and CPU time; zeros when it is gone. */
export function procSample (pid: number): ProcSample {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    // Fields after the command name, which is in parentheses and may hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime are fields 14 and 15 of stat(5); `fields` starts at field 3.
    const ticks = Number(fields[11]) + Number(fields[12])
    return { rss: statusKb(status, 'VmRSS'), peakRss: statusKb(status, 'VmHWM'), cpuUs: ticks * CLOCK_TICK_US }
  } catch {
    return { rss: 0, peakRss: 0, cpuUs: 0 }
  }
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

/** RSS of a process and all its descendants (the hub and its Node-RED child). */
export function treeRss (pid: number): number {
  return [pid, ...descendants(pid)].reduce((sum, p) => sum + procSample(p).rss, 0)
}
