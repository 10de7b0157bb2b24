/** The IPC messages between the bench (parent) and a broker process (child). */

/** `plain-level` (plain aedes on LevelDB, no hooks) is only for `--attribution`. */
export type BrokerKind = 'homefacts' | 'homefacts-nodered' | 'plain' | 'plain-level'

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
  /** homefacts only: a `responder` user for household member `bench` (the catch-up scenario). */
  responder?: BenchCredentials
}

export interface Request {
  id: number
  /** `probe` is answered by bench/probe.mjs, loaded into every broker process. */
  type: 'sample' | 'stop' | 'probe'
  /** Run a full GC before reading memory (the child runs with --expose-gc). */
  gc?: boolean
  /** Start the event-loop delay histogram afresh after this sample. */
  resetLoopDelay?: boolean
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
  /** Event-loop delay of the broker process since the last reset, in ms. */
  loopDelayP99: number
  loopDelayMax: number
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
