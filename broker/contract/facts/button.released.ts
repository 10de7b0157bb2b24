import { z } from 'zod'

/** The button was released. */
export const TYPE = 'button.released' as const
/** The thing state this fact sets. */
export const STATE = 'released'
export const Schema = z.object({
  raw: z.number().optional().describe('The raw pin reading behind the change')
}).strict().describe('The button was released')
export type ButtonReleased = z.infer<typeof Schema>
