import { isUtf8 } from 'node:buffer'
import { deadletterTopic, type DeadLetter, type Refusal } from '#contract'

export type { DeadLetter, Refusal } from '#contract'

/** The dead letter of a refused publish: its reason and the original payload, UTF-8 text when it is. */
export function deadLetter (clientId: string, packet: { topic: string, payload: Buffer | string, qos: number, retain: boolean }, reason: Refusal): { topic: string, payload: Buffer } {
  const raw = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
  const encoding = isUtf8(raw) ? 'utf8' : 'base64'
  const letter: DeadLetter = {
    reason,
    clientId,
    topic: packet.topic,
    qos: packet.qos,
    retain: packet.retain,
    payload: raw.toString(encoding),
    encoding,
    at: new Date().toISOString()
  }
  return { topic: deadletterTopic(clientId), payload: Buffer.from(JSON.stringify(letter)) }
}
