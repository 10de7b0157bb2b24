import { z } from 'zod'

/** Why the broker refused a publish: a stable code (`Codes`), a message and the failing fields. */
export const Refusal = z.object({
  code: z.string().min(1).describe('A stable code from Codes, e.g. HF_DATA'),
  message: z.string().describe('What is wrong, in words'),
  issues: z.array(z.object({ path: z.string(), message: z.string() }).strict()).readonly().describe('The failing fields')
}).strict().describe('Why a publish was refused')
export type Refusal = z.infer<typeof Refusal>

/** What a subscriber to `homefacts/deadletter/<clientId>` receives: the refused publish and why. */
export const DeadLetter = z.object({
  reason: Refusal,
  clientId: z.string().describe('The client whose publish was refused'),
  topic: z.string().describe('The topic it was published on'),
  qos: z.number().int().min(0).max(2),
  retain: z.boolean(),
  payload: z.string().describe('The original payload: UTF-8 text when it decodes cleanly, otherwise base64'),
  encoding: z.enum(['utf8', 'base64']),
  at: z.string().describe('When the broker refused it (ISO time)')
}).strict().describe('A publish the broker refused, on homefacts/deadletter/<clientId>')
export type DeadLetter = z.infer<typeof DeadLetter>
