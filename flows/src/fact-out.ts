import { checkPublish, factName, flowSubject, isFactType, type Fact, type FactType } from '#contract'
import { makeFact } from '#client'

/** Where a `fact out` node keeps its sequence numbers (Node-RED's file context store). */
export interface SeqStore {
  /** The next seq for `key` (1 for the first), already stored before it is returned. */
  next: (key: string) => Promise<number>
}

export interface FactOutOptions {
  /** The fact type; when empty, `msg.type` names it. */
  type?: string
  /** The flow's kebab-case name: the fact goes to `flows/<flow>/fact/<name>`. */
  flow: string
  store: SeqStore
  publish: (topic: string, payload: string) => Promise<void>
}

export interface FactOutInput {
  payload?: unknown
  type?: unknown
  /** The fact that caused this one (`fact in` sets it): becomes `causationid`/`correlationid`. */
  fact?: { id?: unknown, correlationid?: unknown }
}

/**
 * The work of a `fact out` node: build and validate a derived fact with `makeFact` (so a flow
 * can never bypass the contract: the broker checks again), with a `seq` that survives restarts,
 * then publish it. Throws the contract's coded error, which the node hands to `done(err)`.
 */
export class FactOutController {
  readonly subject: string
  #opts: FactOutOptions

  constructor (opts: FactOutOptions) {
    this.#opts = opts
    this.subject = flowSubject(opts.flow)
    if (opts.type && !isFactType(opts.type)) throw new Error(`unknown fact type "${opts.type}"`)
  }

  async handle (msg: FactOutInput): Promise<{ topic: string, fact: Fact }> {
    const type = (this.#opts.type || (typeof msg.type === 'string' ? msg.type : '')) as FactType
    const cause = msg.fact && typeof msg.fact.id === 'string' ? msg.fact : undefined
    // Validate before taking a seq, so a refused message leaves no gap.
    makeFact(type, { subject: this.subject, source: this.subject, seq: 1, data: msg.payload as never })
    const seq = await this.#opts.store.next(`seq:${this.subject}`)
    const fact = makeFact(type, {
      subject: this.subject,
      source: this.subject,
      seq,
      data: msg.payload as never,
      ...(cause ? { causationid: cause.id as string, correlationid: typeof cause.correlationid === 'string' ? cause.correlationid : cause.id as string } : {})
    })
    const topic = `${this.subject}/fact/${factName(type)}`
    const payload = JSON.stringify(fact)
    checkPublish({ topic, payload, retain: false })
    await this.#opts.publish(topic, payload)
    return { topic, fact }
  }
}
