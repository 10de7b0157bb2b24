import { deadletterTopic, type Issue } from '#contract'

/** Why the broker refused a publish: a stable code, a message and the failing fields. */
export interface Refusal {
  code: string
  message: string
  issues: readonly Issue[]
}

/** What a subscriber to `homefacts/deadletter/<clientId>` receives. */
export interface DeadLetter {
  reason: Refusal
  clientId: string
  topic: string
  qos: number
  retain: boolean
  /** The original payload: UTF-8 text when it decodes cleanly, otherwise base64. */
  payload: string
  encoding: 'utf8' | 'base64'
  at: string
}

export function deadLetter (clientId: string, packet: { topic: string, payload: Buffer | string, qos: number, retain: boolean }, reason: Refusal): { topic: string, payload: Buffer } {
  const raw = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
  const text = raw.toString('utf8')
  const clean = Buffer.from(text, 'utf8').equals(raw)
  const letter: DeadLetter = {
    reason,
    clientId,
    topic: packet.topic,
    qos: packet.qos,
    retain: packet.retain,
    payload: clean ? text : raw.toString('base64'),
    encoding: clean ? 'utf8' : 'base64',
    at: new Date().toISOString()
  }
  return { topic: deadletterTopic(clientId), payload: Buffer.from(JSON.stringify(letter)) }
}
