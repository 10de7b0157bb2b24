import { Envelope, type EnvelopeShape } from './envelope.ts'
import { registry, isFactType, type FactMap, type FactType } from './registry.ts'
import { Codes, HomefactsError, toIssues } from './errors.ts'

/** A validated, frozen fact of one type; `Fact` alone is the union over every type. */
export type Fact<T extends FactType = FactType> = T extends FactType
  ? Readonly<Omit<EnvelopeShape, 'type' | 'data'> & { type: T, data: Readonly<FactMap[T]> }>
  : never

/** What a producer supplies; the rest of the envelope is filled in. */
export interface FactFields<T extends FactType> {
  /** Unique and time-sortable: a ULID (`newFactId()` in `#client`). */
  id: string
  subject: string
  source: string
  seq: number
  data: FactMap[T]
  causationid?: string
  correlationid?: string
  /** Defaults to now. */
  time?: string | Date
}

/** Freezes an object and everything it holds. */
export function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

/**
 * Builds a fact: fills the envelope, validates envelope and `data`, then freezes it.
 * Throws a `HomefactsError` (`HF_UNKNOWN_TYPE`, `HF_ENVELOPE` or `HF_DATA`) when invalid.
 * Producers call `makeFact` in `#client`, which gives the fact a new id.
 */
export function buildFact<T extends FactType> (type: T, fields: FactFields<T>): Fact<T> {
  const time = fields.time instanceof Date ? fields.time.toISOString() : fields.time
  const candidate = {
    specversion: '1.0',
    id: fields.id,
    type,
    source: fields.source,
    subject: fields.subject,
    time: time ?? new Date().toISOString(),
    seq: fields.seq,
    datacontenttype: 'application/json',
    ...(fields.causationid ? { causationid: fields.causationid } : {}),
    ...(fields.correlationid ? { correlationid: fields.correlationid } : {}),
    data: fields.data
  }
  return deepFreeze(validateFact(candidate)) as Fact<T>
}

/** Validates an already-parsed envelope and its `data`; returns the parsed fact. */
export function validateFact (value: unknown): Fact {
  const env = Envelope.safeParse(value)
  if (!env.success) throw new HomefactsError(Codes.ENVELOPE, 'invalid CloudEvents envelope', toIssues(env.error.issues))
  const { type } = env.data
  if (!isFactType(type)) throw new HomefactsError(Codes.UNKNOWN_TYPE, `unknown fact type "${type}"`, [{ path: 'type', message: 'not in the registry' }])
  const data = registry[type].Schema.safeParse(env.data.data)
  if (!data.success) {
    throw new HomefactsError(Codes.DATA, `invalid data for "${type}"`, toIssues(data.error.issues).map((i) => ({ ...i, path: i.path ? `data.${i.path}` : 'data' })))
  }
  // zod's output is a new object, ours to complete: no second copy of the envelope.
  env.data.data = data.data
  return env.data as Fact
}
