import type { MqttClient } from 'mqtt'
import { Claim, Codes, DeadLetter, HomefactsError, parseTopic } from '#contract'
import type { Seen } from './seen.ts'

/** One MQTT publish, ready to send. */
export interface Message {
  topic: string
  payload: string
  qos: 1
  retain: boolean
}

/** The claim topic of a subject (`home/<area>/<thing>` → `home/<area>/<thing>/claim`); throws `HF_TOPIC_SHAPE` for anything else. */
export function claimTopicOf (subject: string): string {
  const topic = `${subject}/claim`
  if (parseTopic(topic)?.kind !== 'claim') throw new HomefactsError(Codes.TOPIC_SHAPE, `"${subject}" is not a thing subject, so it has no claim topic`)
  return topic
}

/** The retained claim that says `by` handles the fact: `{factId, by, at}` on `<subject>/claim`, QoS 1. */
export function claimMessage (fact: { id: string, subject: string }, by: string, at: Date): Message {
  const claim: Claim = { factId: fact.id, by, at: at.toISOString() }
  return { topic: claimTopicOf(fact.subject), payload: JSON.stringify(claim), qos: 1, retain: true }
}

/** The empty retained payload that clears a subject's claim. */
export function clearMessage (subject: string): Message {
  return { topic: claimTopicOf(subject), payload: '', qos: 1, retain: true }
}

/**
 * Who holds the claim for one fact, from what a mirror holds for its subject's claim topic.
 * - `held`: the claim names this fact;
 * - `free`: the topic was cleared, or its claim is for another fact;
 * - `unknown`: nothing seen on the topic yet, or an unreadable claim.
 */
export type Holder =
  | { status: 'held', by: string, claim: Claim }
  | { status: 'free', reason: 'cleared' | 'other-fact' }
  | { status: 'unknown', reason: 'no-claim-seen' | 'unreadable-claim' }

export function holderOf (factId: string, seen: Seen<Claim> | undefined): Holder {
  if (!seen) return { status: 'unknown', reason: 'no-claim-seen' }
  if (seen.status === 'unreadable') return { status: 'unknown', reason: 'unreadable-claim' }
  if (seen.status === 'cleared') return { status: 'free', reason: 'cleared' }
  return seen.value.factId === factId ? { status: 'held', by: seen.value.by, claim: seen.value } : { status: 'free', reason: 'other-fact' }
}

/** How the broker answered a claim (or a clear). */
export type ClaimOutcome =
  | { status: 'acknowledged' }
  | { status: 'refused', reasonCode: number, reason: string }

/**
 * Reads a refusal from a failed publish: mqtt.js rejects a QoS 1 publish whose PUBACK carries an
 * error reason code (≥ 0x80; the hub answers a refused claim with 0x83 and a reason string).
 * Returns `null` for any other failure (a closed connection, say).
 */
export function refusalOf (err: unknown, puback?: { properties?: { reasonString?: string } }): { reasonCode: number, reason: string } | null {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code !== 'number' || code < 0x80) return null
  return { reasonCode: code, reason: puback?.properties?.reasonString ?? (err as Error).message }
}

/**
 * Publishes a claim (or a clear) and says how the broker answered; rejects only when the publish
 * failed for another reason than a refusal. An MQTT 3.1.1 PUBACK has no reason code: the hub
 * acknowledges a refused claim and sends the refusal on `homefacts/deadletter/<clientId>`, which
 * `claimRefusalFromDeadLetter` reads.
 */
export function publishClaim (client: MqttClient, message: Message): Promise<ClaimOutcome> {
  return new Promise((resolve, reject) => {
    client.publish(message.topic, message.payload, { qos: message.qos, retain: message.retain }, (err, packet) => {
      if (!err) return resolve({ status: 'acknowledged' })
      const refusal = refusalOf(err, packet as { properties?: { reasonString?: string } } | undefined)
      if (refusal) resolve({ status: 'refused', ...refusal })
      else reject(err)
    })
  })
}

/** A refused claim (or clear, `claim: null`) read from the hub's dead-letter topic. */
export interface ClaimRefusal {
  topic: string
  subject: string
  claim: Claim | null
  /** The broker's reason code, e.g. `HF_CLAIMED`. */
  code: string
  message: string
}

/** Reads a dead letter; returns the refused claim, or `null` when the letter is about anything else. */
export function claimRefusalFromDeadLetter (payload: Buffer | string): ClaimRefusal | null {
  let value: unknown
  try {
    value = JSON.parse(payload.toString())
  } catch {
    return null
  }
  const letter = DeadLetter.safeParse(value)
  if (!letter.success || letter.data.encoding !== 'utf8') return null
  const t = parseTopic(letter.data.topic)
  if (t?.kind !== 'claim') return null
  const { reason } = letter.data
  if (letter.data.payload === '') return { topic: letter.data.topic, subject: t.subject, claim: null, code: reason.code, message: reason.message }
  let original: unknown
  try {
    original = JSON.parse(letter.data.payload)
  } catch {
    return null
  }
  const claim = Claim.safeParse(original)
  return claim.success ? { topic: letter.data.topic, subject: t.subject, claim: claim.data, code: reason.code, message: reason.message } : null
}
