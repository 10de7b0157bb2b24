/** The IPC messages between the bench (parent) and a broker process (child). */

/** `plain-store` (plain aedes on the hub's session store, no hooks) is only for `--attribution`. */
export type BrokerKind = 'plain' | 'plain-store'

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
}

export interface Request {
  id: number
  /** `probe` is answered by bench/probe.mjs, loaded into every broker process. */
  type: 'stop' | 'probe'
}

export interface Stopped {
  type: 'stopped'
  id: number
}

export type Reply = Stopped
