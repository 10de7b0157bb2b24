import { z } from 'zod'

/**
 * A household member's responder decided how to respond to a fact. Published on
 * `household/<member>/fact/decided` with `causationid` set to the fact's id, so the ledger
 * tells the whole story: fact → decisions → claim → resolution.
 *
 * Each decision has its own reason codes. `deferred` means the responder had no positive
 * evidence to decide on within its bound (no state yet, an older one, an unreadable one, or no
 * presence): it did not claim, and it decides again when the evidence arrives.
 */
export const TYPE = 'household.decided' as const

/** Why a decision was deferred: which evidence the responder was still waiting for. */
export const DeferReason = z.enum([
  'no-state',
  'old-state',
  'unreadable-state',
  'no-presence',
  'unreadable-presence',
  'unreadable-claim'
]).describe('The evidence still missing when the bound passed')
export type DeferReason = z.infer<typeof DeferReason>

const common = {
  member: z.string().min(1).describe('Who decided'),
  detail: z.string().describe('Why, in words'),
  fact: z.object({
    id: z.string().min(1),
    type: z.string().min(1),
    subject: z.string().min(1),
    seq: z.number().int().nonnegative()
  }).strict().describe('The fact decided on')
}

const decision = <const D extends string, const R extends readonly [string, ...string[]]>(d: D, reasons: R, what: string) =>
  z.strictObject({
    member: common.member,
    decision: z.literal(d).describe(what),
    reason: z.enum(reasons).describe('Why, as a stable code'),
    detail: common.detail,
    fact: common.fact
  })

export const Schema = z.discriminatedUnion('decision', [
  decision('claim', ['open', 'mine'], 'Claimed it (or holds the claim already): only for a member whose policy says `auto`'),
  decision('offer', ['open'], 'Asked the member to handle it (a `household.offered` fact); the member claims it or not'),
  decision('stand-down', ['claimed', 'lost-race'], 'Someone else claimed it, or the broker refused my claim'),
  decision('skip', ['resolved', 'busy', 'away', 'not-allowed'], 'Did not act'),
  decision('done', ['resolved'], 'The fact this member claimed is resolved'),
  z.strictObject({
    member: common.member,
    decision: z.literal('deferred').describe('No positive evidence within the bound: no claim; decided again when it arrives'),
    reason: DeferReason,
    detail: common.detail,
    fact: common.fact
  })
]).describe('A household member decided how to respond to a fact')
export type HouseholdDecided = z.infer<typeof Schema>
