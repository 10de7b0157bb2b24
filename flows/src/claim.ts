import { Codes, HomefactsError, validateFact, type Fact } from '#contract'
import { claimMessage, type ClaimOutcome, type Message } from '#client'

export interface ClaimOptions {
  /** The household member to claim as; when empty, `msg.member` names it. */
  member?: string
  publishClaim: (message: Message) => Promise<ClaimOutcome>
  now?: () => Date
}

export type ClaimResult =
  | { outcome: 'won', fact: Fact, by: string }
  | { outcome: 'lost', fact: Fact, by: string, reasonCode: number, reason: string }

/** MQTT 5 reason code 0x83: the hub refused a claim because it lost a race (`HF_CLAIMED`, `HF_CLAIM_NOT_CURRENT`). */
export const LOST_RACE = 0x83

/**
 * The work of a `claim` node: publish a retained claim for a fact and read the broker's answer.
 * The broker is the authority: a success PUBACK is "won", a lost race (0x83) is "lost", and
 * anything else (not allowed to claim as that member: 0x87) is an error.
 */
export class ClaimController {
  #opts: ClaimOptions

  constructor (opts: ClaimOptions) {
    this.#opts = opts
  }

  async handle (msg: { fact?: unknown, payload?: unknown, member?: unknown }): Promise<ClaimResult> {
    const fact = validateFact(msg.fact ?? msg.payload)
    const by = this.#opts.member || (typeof msg.member === 'string' ? msg.member : '')
    if (!by) throw new HomefactsError(Codes.NOT_AUTHORIZED, 'no member to claim as: set the node\'s member or msg.member')
    const outcome = await this.#opts.publishClaim(claimMessage(fact, by, (this.#opts.now ?? (() => new Date()))()))
    if (outcome.status === 'acknowledged') return { outcome: 'won', fact, by }
    if (outcome.reasonCode === LOST_RACE) return { outcome: 'lost', fact, by, reasonCode: outcome.reasonCode, reason: outcome.reason }
    throw new HomefactsError(Codes.NOT_AUTHORIZED, `the broker refused the claim as "${by}": ${outcome.reason} (reason code 0x${outcome.reasonCode.toString(16)})`)
  }
}
