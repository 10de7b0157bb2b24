import { z } from 'zod'

/** The motion sensor detects movement. */
export const TYPE = 'motion.detected' as const
/** The thing state this fact sets. */
export const STATE = 'detected'
export const Schema = z.object({
  raw: z.number().optional().describe('The raw pin reading behind the change')
}).strict().describe('The motion sensor detects movement')
export type MotionDetected = z.infer<typeof Schema>
