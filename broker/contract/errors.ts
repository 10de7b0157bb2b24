/** Every coded error homefacts raises. Tests assert `.code`, never the message text. */
export const Codes = {
  /** The topic does not match any shape in the topic table. */
  TOPIC_SHAPE: 'HF_TOPIC_SHAPE',
  /** A fact payload is not JSON. */
  NOT_JSON: 'HF_NOT_JSON',
  /** The CloudEvents envelope is invalid. */
  ENVELOPE: 'HF_ENVELOPE',
  /** The fact `type` is not in the registry. */
  UNKNOWN_TYPE: 'HF_UNKNOWN_TYPE',
  /** The fact `data` does not match the schema of its `type`. */
  DATA: 'HF_DATA',
  /** The envelope `subject` is not the thing the topic names. */
  SUBJECT_MISMATCH: 'HF_SUBJECT_MISMATCH',
  /** The fact name in the topic is not the name the `type` ends with. */
  TYPE_MISMATCH: 'HF_TYPE_MISMATCH',
  /** A fact's `time` is more than a day ahead of the broker's clock, or before 2000 (a clock never set). */
  TIME: 'HF_TIME',
  /** A fact was published retained, or a state was published without retain. */
  RETAIN: 'HF_RETAIN',
  /** A state, claim, availability, presence or profile payload is invalid. */
  PAYLOAD: 'HF_PAYLOAD',
  /** Another member already claimed this fact: the first claim in broker order wins. */
  CLAIMED: 'HF_CLAIMED',
  /** A claim for a fact that is not the one the thing's current state names (resolved, or not yet stated). */
  CLAIM_NOT_CURRENT: 'HF_CLAIM_NOT_CURRENT',
  /** A claim cleared by someone other than its holder or an admin. */
  NOT_HOLDER: 'HF_NOT_HOLDER',
  /** A fact id already in the ledger for a different fact (an exact redelivery is accepted). */
  DUPLICATE_ID: 'HF_DUPLICATE_ID',
  /** A client published faster than `limits.publishesPerSecond` allows. */
  RATE: 'HF_RATE',
  /** A payload larger than `limits.maxPayloadBytes`. */
  TOO_LARGE: 'HF_TOO_LARGE',
  /** A user already holds `limits.connectionsPerUser` connections. */
  QUOTA: 'HF_QUOTA',
  /** Too many failed logins for this user name or address: wait, then try again. */
  LOGIN_THROTTLED: 'HF_LOGIN_THROTTLED',
  /** The ACL does not allow this client to publish on the topic. */
  NOT_AUTHORIZED: 'HF_NOT_AUTHORIZED',
  /** The ledger could not store an accepted fact. */
  LEDGER: 'HF_LEDGER',
  /** The session store could not keep a retained message. */
  STORE: 'HF_STORE',
  /** A config file, variable or flag has a bad value. */
  CONFIG: 'HF_CONFIG',
  /** A file in the data dir is held by another process (a second hub on the same dir). */
  DATA_LOCKED: 'HF_DATA_LOCKED',
  /** A file in the data dir is unreadable as what it should be (garbage, a torn copy). */
  DATA_CORRUPT: 'HF_DATA_CORRUPT',
  /** The disk that holds the data dir is full. */
  DISK_FULL: 'HF_DISK_FULL',
  /** A listener's port is already taken. */
  PORT_IN_USE: 'HF_PORT_IN_USE',
  /** The users file is unreadable or malformed. */
  USERS_FILE: 'HF_USERS_FILE',
  /** A user name is unknown, or already taken. */
  USER: 'HF_USER',
  /** Wrong user name or password. */
  BAD_CREDENTIALS: 'HF_BAD_CREDENTIALS',
  /** A device's serial port is missing, not readable, or answers without StandardFirmata. */
  DEVICE_PORT: 'HF_DEVICE_PORT',
  /** A things file (or a device's options) is unreadable or invalid. */
  THINGS_FILE: 'HF_THINGS_FILE',
  /** A simulated device's script file is unreadable or invalid. */
  DEVICE_SCRIPT: 'HF_DEVICE_SCRIPT',
  /** An HTTP request body (or query) does not match its schema (answered 400 with the fields). */
  BODY: 'HF_BODY',
  /** The estate: the house that owns a fact did not answer a claim on it in time, or the NATS link is down. */
  ESTATE_UNREACHABLE: 'HF_ESTATE_UNREACHABLE',
  /** The estate refused this house: a wrong credential, or its site name is taken by another house. */
  ESTATE_REFUSED: 'HF_ESTATE_REFUSED',
  /** An order or customer id that does not exist (answered 404). */
  NOT_FOUND: 'HF_NOT_FOUND',
  /** An action the order's current status does not allow, e.g. shipping a cancelled order (409). */
  STATE_CONFLICT: 'HF_STATE_CONFLICT'
} as const

export type Code = (typeof Codes)[keyof typeof Codes]

/** A problem found in one field of a payload, as a path and a message. */
export interface Issue {
  path: string
  message: string
}

/** An error with a stable code and, where a payload was checked, the failing fields. */
export class HomefactsError extends Error {
  readonly code: Code
  readonly issues: readonly Issue[]

  constructor (code: Code, message: string, issues: readonly Issue[] = []) {
    super(message)
    this.name = 'HomefactsError'
    this.code = code
    this.issues = issues
  }
}

/** Turns zod issues into plain `{path, message}` pairs that survive JSON. */
export function toIssues (issues: readonly { path: readonly PropertyKey[], message: string }[]): Issue[] {
  return issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }))
}
