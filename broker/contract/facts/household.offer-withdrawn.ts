import { z } from 'zod'

/**
 * An offer is withdrawn: someone claimed the fact (the others' offers), or the fact resolved
 * (the claimant's too). Published on `notify/<member>/fact/offer-withdrawn` by the agent that
 * made the offer, with `causationid` set to the offered fact, so every phone drops it and the
 * trace shows why.
 */
export const TYPE = 'household.offer-withdrawn' as const
export const Schema = z.object({
  member: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/).describe('Who had been asked'),
  factId: z.string().min(1).describe('The fact offered'),
  subject: z.string().min(1).describe('The thing it is about'),
  reason: z.enum(['claimed', 'resolved']).describe('Why: someone claimed the fact, or it resolved'),
  detail: z.string().describe('Why, in words, e.g. "claimed by daddy"')
}).strict().describe('An offer to a member is withdrawn')
export type HouseholdOfferWithdrawn = z.infer<typeof Schema>
