import { z } from 'zod'

/** The cup's sensor reads below its calibrated empty level. */
export const TYPE = 'cup.empty' as const
/** The thing state this fact sets. */
export const STATE = 'empty'
export const Schema = z.object({
  level: z.number().min(0).max(1).describe('Fill level from 0 (empty) to 1 (full)'),
  raw: z.number().optional().describe('The raw sensor reading behind the level')
}).strict().describe('The cup is empty')
export type CupEmpty = z.infer<typeof Schema>
