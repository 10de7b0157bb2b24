import { monotonicFactory } from 'ulid'
import { buildFact, type Fact, type FactFields, type FactType } from '#contract'

const ulid = monotonicFactory()

/** A new unique, time-sortable fact id: a ULID, monotonic within one process. */
export function newFactId (now: number = Date.now()): string {
  return ulid(now)
}

/** What a producer gives `makeFact`: the fact's fields, its id made for it unless given. */
export type NewFact<T extends FactType> = Omit<FactFields<T>, 'id'> & { id?: string }

/**
 * Makes a fact: a new id (from its time, when it has one), the envelope filled, validated and
 * frozen (`buildFact` in the contract). Throws the contract's coded error when it is invalid.
 */
export function makeFact<T extends FactType> (type: T, fields: NewFact<T>): Fact<T> {
  const time = fields.time instanceof Date ? fields.time.getTime() : fields.time ? Date.parse(fields.time) : Date.now()
  return buildFact(type, { ...fields, id: fields.id ?? newFactId(time) })
}
