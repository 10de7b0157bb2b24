import { z } from 'zod'

/**
 * A member's agent asks its person to handle an open fact: an offer, not a claim. Published on
 * `notify/<member>/fact/offered` with `causationid` set to the open fact, shown in the web app with
 * "I'll do it" and pushed to the member's phones. Only a person's claim (or an agent whose member
 * chose `auto`) takes the fact.
 */
export const TYPE = 'household.offered' as const
export const Schema = z.object({
  member: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/).describe('Who is asked'),
  factId: z.string().min(1).describe('The open fact'),
  factType: z.string().min(1),
  factSeq: z.number().int().nonnegative().describe('seq of the open fact: the evidence rule needs it to tell open from resolved'),
  subject: z.string().min(1).describe('The thing the fact is about'),
  priority: z.enum(['low', 'normal', 'high', 'urgent']).describe('How loudly to tell the member'),
  detail: z.string().describe('Why, in words')
}).strict().describe('A member is asked to handle an open fact')
export type HouseholdOffered = z.infer<typeof Schema>
