import { z } from 'zod'

/**
 * A household member's responder decided how to respond to a fact. Published on
 * `household/<member>/fact/decided` with `causationid` set to the fact's id, so the ledger
 * tells the whole story: fact → decisions → claim → resolution.
 */
export const TYPE = 'household.decided' as const
export const Schema = z.object({
  member: z.string().min(1).describe('Who decided'),
  decision: z.enum(['claim', 'stand-down', 'skip', 'done']).describe('What they decided'),
  reason: z.enum(['open', 'mine', 'claimed', 'lost-race', 'resolved', 'busy', 'away', 'not-allowed']).describe('Why, as a stable code'),
  detail: z.string().describe('Why, in words'),
  fact: z.object({
    id: z.string().min(1),
    type: z.string().min(1),
    subject: z.string().min(1),
    seq: z.number().int().nonnegative()
  }).strict().describe('The fact decided on')
}).strict().describe('A household member decided how to respond to a fact')
export type HouseholdDecided = z.infer<typeof Schema>
