import { z } from 'zod'

/** The motion sensor no longer detects movement. */
export const TYPE = 'motion.cleared' as const
/** The thing state this fact sets. */
export const STATE = 'clear'
export const Schema = z.object({
  raw: z.number().optional().describe('The raw pin reading behind the change')
}).strict().describe('The motion sensor no longer detects movement')
export type MotionCleared = z.infer<typeof Schema>
