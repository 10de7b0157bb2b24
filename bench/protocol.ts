/** The IPC messages between the bench (parent) and a broker process (child). */

export type BrokerKind = 'homefacts' | 'plain'

export interface BenchCredentials {
  username: string
  password: string
}

/** Sent once by the child when its broker listens. */
export interface Ready {
  type: 'ready'
  kind: BrokerKind
  /** The loopback MQTT port the load connects to. */
  port: number
  /** homefacts only: a device user that owns every `home/<area>/<thing>` and a service user that reads all. */
  device?: BenchCredentials
  reader?: BenchCredentials
}

export interface Request {
  id: number
  type: 'sample' | 'stop'
  /** Run a full GC before reading memory (the child runs with --expose-gc). */
  gc?: boolean
}

/** The broker process as it is at one moment. */
export interface Sample {
  type: 'sample'
  id: number
  rss: number
  heapUsed: number
  /** process.cpuUsage() of the broker process, in microseconds. */
  cpuUser: number
  cpuSystem: number
  /** homefacts only: the broker's counters and the ledger's last offset. */
  accepted?: number
  deadlettered?: number
  ledgerOffset?: number
}

export interface Stopped {
  type: 'stopped'
  id: number
}

export type Reply = Sample | Stopped
