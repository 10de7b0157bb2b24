import { z } from 'zod'
import { parseTopic, type ParsedTopic } from './topics.ts'
import { Availability, Claim, CustomerProfile, Presence, ThingState } from './envelope.ts'
import { validateFact, type Fact } from './make-fact.ts'
import { factName } from './registry.ts'
import { Codes, HomefactsError, toIssues } from './errors.ts'

/** A publish as the contract sees it. */
export interface Publish {
  topic: string
  payload: Buffer | Uint8Array | string
  retain?: boolean
}

/** The parsed, valid message on a contract topic. */
export type Checked =
  | { kind: 'fact', topic: ParsedTopic & { kind: 'fact' }, fact: Fact }
  | { kind: 'state', topic: ParsedTopic & { kind: 'state' }, state: ThingState }
  | { kind: 'claim', topic: ParsedTopic & { kind: 'claim' }, claim: Claim | null }
  | { kind: 'availability', topic: ParsedTopic & { kind: 'availability' }, availability: Availability }
  | { kind: 'presence', topic: ParsedTopic & { kind: 'presence' }, presence: Presence }
  | { kind: 'profile', topic: ParsedTopic & { kind: 'profile' }, profile: CustomerProfile | null }

const text = (payload: Publish['payload']): string => typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8')

function json (raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch (err) {
    throw new HomefactsError(Codes.NOT_JSON, `payload is not JSON: ${(err as Error).message}`)
  }
}

function parsePayload<S extends z.ZodType> (schema: S, value: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(value)
  if (!r.success) throw new HomefactsError(Codes.PAYLOAD, `invalid ${what} payload`, toIssues(r.error.issues))
  return r.data
}

/** How far ahead of the broker's clock a fact's `time` may be: a device's clock may run fast, not by a day. */
export const MAX_FACT_AHEAD_MS = 24 * 60 * 60 * 1000
/** The earliest `time` a fact may carry: a clock that was never set (an RTC at 1970, or year 1) says less. */
export const EARLIEST_FACT_TIME = '2000-01-01T00:00:00.000Z'

/** Refuses a fact whose `time` no set clock gives (run by the broker with its own clock); an old fact from an outbox passes. */
export function checkFactTime (fact: Fact, now: number): void {
  const at = Date.parse(fact.time)
  if (at > now + MAX_FACT_AHEAD_MS) {
    throw new HomefactsError(Codes.TIME, `time ${fact.time} is more than 24 hours ahead of the broker's clock (${new Date(now).toISOString()})`, [{ path: 'time', message: 'must not be more than 24 hours ahead of the broker' }])
  }
  if (at < Date.parse(EARLIEST_FACT_TIME)) {
    throw new HomefactsError(Codes.TIME, `time ${fact.time} is before ${EARLIEST_FACT_TIME}: the clock that stamped it was not set`, [{ path: 'time', message: `must not be before ${EARLIEST_FACT_TIME}` }])
  }
}

/**
 * The contract check at every ingress: topic shape, retain rule, envelope and `data` schema.
 * Throws a coded `HomefactsError` saying what is wrong; returns the parsed message.
 */
export function checkPublish (msg: Publish): Checked {
  const topic = parseTopic(msg.topic)
  if (!topic) throw new HomefactsError(Codes.TOPIC_SHAPE, `topic "${msg.topic}" matches no shape in the topic table`)
  const raw = text(msg.payload)
  const retain = msg.retain === true
  if (topic.kind === 'fact') {
    // Events are never retained: a retained event would fire again on every reconnect.
    if (retain) throw new HomefactsError(Codes.RETAIN, 'facts are events and must not be retained')
    const fact = validateFact(json(raw))
    if (fact.subject !== topic.subject) {
      throw new HomefactsError(Codes.SUBJECT_MISMATCH, `subject "${fact.subject}" is not the topic's subject "${topic.subject}"`, [{ path: 'subject', message: `expected "${topic.subject}"` }])
    }
    if (factName(fact.type) !== topic.name) {
      throw new HomefactsError(Codes.TYPE_MISMATCH, `type "${fact.type}" is not published under fact name "${topic.name}"`, [{ path: 'type', message: `expected a type ending in ".${topic.name}"` }])
    }
    return { kind: 'fact', topic, fact }
  }
  // State is always retained, so a late subscriber sees the current value.
  if (!retain) throw new HomefactsError(Codes.RETAIN, `${topic.kind} must be published retained`)
  switch (topic.kind) {
    case 'state': return { kind: 'state', topic, state: parsePayload(ThingState, json(raw), 'state') }
    case 'claim': return { kind: 'claim', topic, claim: raw.length === 0 ? null : parsePayload(Claim, json(raw), 'claim') }
    case 'availability': return { kind: 'availability', topic, availability: parsePayload(Availability, raw, 'availability') }
    case 'presence': return { kind: 'presence', topic, presence: parsePayload(Presence, raw, 'presence') }
    case 'profile': return { kind: 'profile', topic, profile: raw.length === 0 ? null : parsePayload(CustomerProfile, json(raw), 'profile') }
  }
}
