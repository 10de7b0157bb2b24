import { z } from 'zod'

/** The door contact closed. */
export const TYPE = 'door.closed' as const
/** The thing state this fact sets. */
export const STATE = 'closed'
export const Schema = z.object({
  raw: z.number().optional().describe('The raw pin reading behind the change')
}).strict().describe('The door contact closed')
export type DoorClosed = z.infer<typeof Schema>
