import { z } from 'zod'

/**
 * The broker accepted a member's claim on an open fact. Published on
 * `household/<member>/fact/claimed` by the hub's phones service, which sees every claim the
 * broker retains, with `causationid` set to the claimed fact: a claim is retained state and
 * is cleared on resolution, so this fact is what keeps it in the ledger's story.
 */
export const TYPE = 'household.claimed' as const
export const Schema = z.object({
  factId: z.string().min(1).describe('The fact claimed'),
  subject: z.string().min(1).describe('The thing it is about'),
  by: z.string().min(1).describe('Who claimed it'),
  at: z.iso.datetime({ offset: true }).describe('When, as the claim says')
}).strict().describe('A member claimed an open fact')
export type HouseholdClaimed = z.infer<typeof Schema>
