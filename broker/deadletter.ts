import { deadletterTopic, type DeadLetter, type Refusal } from '#contract'

export type { DeadLetter, Refusal } from '#contract'

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
