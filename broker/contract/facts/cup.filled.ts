import { z } from 'zod'

/** The cup's sensor reads above its calibrated full level. */
export const TYPE = 'cup.filled' as const
/** The thing state this fact sets. */
export const STATE = 'full'
export const Schema = z.object({
  level: z.number().min(0).max(1).describe('Fill level from 0 (empty) to 1 (full)'),
  raw: z.number().optional().describe('The raw sensor reading behind the level')
}).strict().describe('The cup has been filled')
export type CupFilled = z.infer<typeof Schema>
