import { z } from 'zod'

/** The button is pressed (its contact closed). */
export const TYPE = 'button.pressed' as const
/** The thing state this fact sets. */
export const STATE = 'pressed'
export const Schema = z.object({
  raw: z.number().optional().describe('The raw pin reading behind the change')
}).strict().describe('The button is pressed (its contact closed)')
export type ButtonPressed = z.infer<typeof Schema>
