import { z } from 'zod'

/** The door contact opened. */
export const TYPE = 'door.opened' as const
/** The thing state this fact sets. */
export const STATE = 'open'
export const Schema = z.object({
  raw: z.number().optional().describe('The raw pin reading behind the change')
}).strict().describe('The door contact opened')
export type DoorOpened = z.infer<typeof Schema>
