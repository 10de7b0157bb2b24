import type { IClientSubscribeOptions, IPublishPacket, MqttClient } from 'mqtt'
import { Claim, Codes, HomefactsError, ThingState, toIssues, topicMatches, type Fact } from '#contract'

/** How long to wait for a retained message after SUBACK before taking it as "none". */
export const DEFAULT_READ_TIMEOUT_MS = 250

export interface ReadOptions {
  /** Bound on the wait after SUBACK; no retained message by then means there is none. */
  timeoutMs?: number
}

/** Reads on one client and topic run one after another (see `readRetained`). */
const queues = new WeakMap<MqttClient, Map<string, Promise<unknown>>>()

function serial<T> (client: MqttClient, key: string, fn: () => Promise<T>): Promise<T> {
  let perClient = queues.get(client)
  if (!perClient) queues.set(client, perClient = new Map())
  const previous = perClient.get(key) ?? Promise.resolve()
  const next = previous.then(fn, fn)
  const tail = next.catch(() => {})
  perClient.set(key, tail)
  void tail.then(() => { if (perClient.get(key) === tail) perClient.delete(key) })
  return next
}

function subscribeOptions (client: MqttClient): IClientSubscribeOptions {
  // Retain handling 0: the server sends the retained messages on every SUBSCRIBE [MQTT-3.3.1-9].
  return client.options.protocolVersion === 5 ? { qos: 1, rh: 0 } : { qos: 1 }
}

/**
 * Collects the retained messages on `filter` with a fresh SUBSCRIBE, then unsubscribes.
 * A retained message arrives with the RETAIN flag set only in answer to a SUBSCRIBE; live
 * publishes are forwarded with it cleared [MQTT-3.3.1-9], so they are told apart by the flag.
 * Collection ends `timeoutMs` after the last message (or after SUBACK, when there is none).
 *
 * Reads of the same topic on one client are serialised, so an UNSUBSCRIBE of one read never
 * cuts the SUBSCRIBE of another short. Do not call it on a client whose message handling is
 * being held (an mqtt.js `handleMessage` that has not called back): SUBACK would wait behind it.
 */
export async function readRetainedAll (client: MqttClient, filter: string, opts: ReadOptions = {}): Promise<Map<string, Buffer>> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_READ_TIMEOUT_MS
  return serial(client, filter, async () => {
    const found = new Map<string, Buffer>()
    let timer: NodeJS.Timeout | undefined
    let finish: () => void = () => {}
    let subacked = false
    const done = new Promise<void>((resolve) => { finish = resolve })
    const arm = (): void => {
      clearTimeout(timer)
      timer = setTimeout(finish, timeoutMs)
    }
    const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
      if (!packet.retain || !topicMatches(filter, topic)) return
      found.set(topic, payload)
      if (subacked) arm()
    }
    client.on('message', onMessage)
    try {
      const granted = await client.subscribeAsync(filter, subscribeOptions(client))
      if (granted.some((g) => g.qos >= 128)) throw new HomefactsError(Codes.NOT_AUTHORIZED, `subscription to "${filter}" was refused`)
      subacked = true
      arm()
      await done
      return found
    } finally {
      clearTimeout(timer)
      client.removeListener('message', onMessage)
      await client.unsubscribeAsync(filter).catch(() => {})
    }
  })
}

/**
 * The current retained message on one exact topic, or `null` when nothing is retained.
 * Like `readRetainedAll`, but it returns as soon as the retained message arrives.
 */
export async function readRetained (client: MqttClient, topic: string, opts: ReadOptions = {}): Promise<Buffer | null> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_READ_TIMEOUT_MS
  return serial(client, topic, async () => {
    let got: (value: Buffer | null) => void = () => {}
    const answer = new Promise<Buffer | null>((resolve) => { got = resolve })
    const onMessage = (t: string, payload: Buffer, packet: IPublishPacket): void => {
      if (packet.retain && t === topic) got(payload)
    }
    client.on('message', onMessage)
    let timer: NodeJS.Timeout | undefined
    try {
      const granted = await client.subscribeAsync(topic, subscribeOptions(client))
      if (granted.some((g) => g.qos >= 128)) throw new HomefactsError(Codes.NOT_AUTHORIZED, `subscription to "${topic}" was refused`)
      timer = setTimeout(() => got(null), timeoutMs)
      return await answer
    } finally {
      clearTimeout(timer)
      client.removeListener('message', onMessage)
      await client.unsubscribeAsync(topic).catch(() => {})
    }
  })
}

function parseJson<T> (schema: { safeParse: (v: unknown) => { success: true, data: T } | { success: false, error: { issues: { path: PropertyKey[], message: string }[] } } }, raw: Buffer, what: string): T {
  let value: unknown
  try {
    value = JSON.parse(raw.toString('utf8'))
  } catch (err) {
    throw new HomefactsError(Codes.NOT_JSON, `retained ${what} is not JSON: ${(err as Error).message}`)
  }
  const r = schema.safeParse(value)
  if (!r.success) throw new HomefactsError(Codes.PAYLOAD, `retained ${what} is invalid`, toIssues(r.error.issues))
  return r.data
}

/** The thing's current retained state (`<subject>/state`), or `null`. Throws a coded error when it is malformed. */
export async function readState (client: MqttClient, subject: string, opts?: ReadOptions): Promise<ThingState | null> {
  const raw = await readRetained(client, `${subject}/state`, opts)
  return raw === null || raw.length === 0 ? null : parseJson(ThingState, raw, 'state')
}

/** The thing's current retained claim (`<subject>/claim`), or `null` when unclaimed. */
export async function readClaim (client: MqttClient, subject: string, opts?: ReadOptions): Promise<Claim | null> {
  const raw = await readRetained(client, `${subject}/claim`, opts)
  return raw === null || raw.length === 0 ? null : parseJson(Claim, raw, 'claim')
}

/**
 * A fact about S with seq n is resolved once the state of S carries a seq greater than n
 * (ARCHITECTURE.md, "Resolved, claimed, escalated"). With no state yet, it is open.
 */
export function isResolved (fact: Pick<Fact, 'seq'>, state: ThingState | null): boolean {
  return state !== null && state.seq > fact.seq
}

/** The opposite of `isResolved`: the fact still describes the thing. */
export function isOpen (fact: Pick<Fact, 'seq'>, state: ThingState | null): boolean {
  return !isResolved(fact, state)
}

/** Reads the current state of the fact's subject and says whether the fact is still open. */
export async function checkOpen (client: MqttClient, fact: Pick<Fact, 'seq' | 'subject'>, opts?: ReadOptions): Promise<{ open: boolean, state: ThingState | null }> {
  const state = await readState(client, fact.subject, opts)
  return { open: isOpen(fact, state), state }
}
