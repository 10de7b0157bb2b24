/**
 * The client library every part shares (`#client`): services, devices and the Node-RED nodes.
 * It imports `#contract`, zod, ulid and the types of mqtt.js only, and nothing from `services/`
 * or `broker/`; it never opens a connection (it is handed one).
 *
 * A subscriber acts on a fact only on **positive evidence** that the fact is open at decision
 * time. MQTT has no "nothing is retained" answer, so silence is never read as "no state": a
 * `Mirror` holds the retained states, claims and presence it has heard, and the evidence rule
 * reads a fact against them: `open`, `resolved`, or `unknown` (wait).
 *
 * ```ts
 * const mirror = new Mirror({ client })       // client: a connected mqtt.js MqttClient
 * await mirror.start()
 * const ev = await mirror.waitForEvidence(fact, { timeoutMs: 2000 })
 * if (ev.verdict === 'open' && mirror.holder(fact).status !== 'held') {
 *   const outcome = await publishClaim(client, claimMessage(fact, 'mummy', new Date()))
 *   if (outcome.status === 'refused') { ... }   // someone else holds it: stand down
 * }
 * ```
 */
export { Mirror, MIRROR_FILTERS, type MirrorChange, type MirrorOptions } from './mirror.ts'
export { evidence, setsState, type Evidence, type EvidenceGap, type FactRef } from './evidence.ts'
export {
  claimMessage,
  clearMessage,
  claimTopicOf,
  holderOf,
  publishClaim,
  refusalOf,
  claimRefusalFromDeadLetter,
  type ClaimOutcome,
  type ClaimRefusal,
  type Holder,
  type Message
} from './claims.ts'
export type { MirrorView, Seen } from './seen.ts'
export { makeFact, newFactId, type NewFact } from './facts.ts'
export { INBOX_SESSION, openInbox, type InboxOptions } from './inbox.ts'
