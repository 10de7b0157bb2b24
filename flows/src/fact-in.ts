import { checkPublish, factName, isFactType, type Fact, type ThingState } from '#contract'
import type { Evidence, Mirror } from '#client'

export interface FactInOptions {
  /** Only facts of this type (`door.opened`); empty for every type. */
  type?: string
  /** Area and thing patterns (`+` for any); used when `topic` is empty. */
  area?: string
  thing?: string
  /** A topic filter of its own, e.g. `household/+/fact/#` or `flows/+/fact/raised`. */
  topic?: string
  /** Drop facts the retained state has already moved past (on by default). */
  dropResolved?: boolean
  /** How long to wait for positive evidence before dropping a fact as undecidable. */
  evidenceTimeoutMs?: number
}

export type FactInResult =
  | { action: 'send', fact: Fact, state: ThingState | null, evidence: Evidence['verdict'] }
  | { action: 'drop', reason: 'other-type' | 'resolved' | 'no-evidence', fact: Fact, evidence?: Evidence }

/**
 * The decision behind a `fact in` node: validate with the contract, then, with `dropResolved`,
 * pass a fact only on positive evidence that it is still open (the mirror and the evidence rule,
 * never a timed read: the bound only ends a wait for evidence that has not come).
 */
export class FactInController {
  readonly type: string
  readonly filter: string
  readonly dropResolved: boolean
  readonly evidenceTimeoutMs: number
  #mirror: Pick<Mirror, 'evidence' | 'waitForEvidence'>

  constructor (mirror: Pick<Mirror, 'evidence' | 'waitForEvidence'>, opts: FactInOptions = {}) {
    this.#mirror = mirror
    this.type = opts.type?.trim() ?? ''
    if (this.type && !isFactType(this.type)) throw new Error(`unknown fact type "${this.type}"`)
    const name = this.type ? factName(this.type) : '+'
    this.filter = opts.topic?.trim() || `home/${opts.area?.trim() || '+'}/${opts.thing?.trim() || '+'}/fact/${name}`
    this.dropResolved = opts.dropResolved !== false
    this.evidenceTimeoutMs = opts.evidenceTimeoutMs ?? 5000
  }

  /** Throws the contract's coded `HomefactsError` for a message that is not a valid fact. */
  async handle (topic: string, payload: Buffer | string, signal?: AbortSignal): Promise<FactInResult> {
    const checked = checkPublish({ topic, payload, retain: false })
    if (checked.kind !== 'fact') throw new Error(`"${topic}" is not a fact topic`)
    const { fact } = checked
    if (this.type && fact.type !== this.type) return { action: 'drop', reason: 'other-type', fact }
    if (!this.dropResolved) {
      const ev = this.#mirror.evidence(fact)
      return { action: 'send', fact, state: ev.state, evidence: ev.verdict }
    }
    const ev = await this.#mirror.waitForEvidence(fact, { timeoutMs: this.evidenceTimeoutMs, ...(signal ? { signal } : {}) })
    if (ev.verdict === 'open') return { action: 'send', fact, state: ev.state, evidence: 'open' }
    return { action: 'drop', reason: ev.verdict === 'resolved' ? 'resolved' : 'no-evidence', fact, evidence: ev }
  }
}
