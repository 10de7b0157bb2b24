import type { Logger } from 'pino'
import { checkPublish, isContractTopic, Codes, HomefactsError, type Claim } from '#contract'
import { canPublish } from '../acl.ts'
import { deadLetter, type Refusal } from '../deadletter.ts'
import type { Ledger } from '../ledger.ts'
import type { RetainedPublish } from '../persistence.ts'
import type { AuthorizePublishHandler, Principals } from '../principals.ts'

export interface AuthorizePublishDeps {
  principals: Principals
  ledger: Ledger
  log: Logger
  /** The current claim on each `home/<area>/<thing>/claim` topic, as retained. */
  claims: Map<string, Claim>
  /** Writes a retained publish to the session store; resolves once it is on disk. */
  storeRetained: (packet: RetainedPublish) => Promise<void>
  /** Counts for `$SYS` stats. */
  counters: { accepted: number, deadlettered: number }
}

/**
 * ACL, contract check and ledger append, all before the acknowledgement: in aedes 2 a QoS 1
 * PUBACK is written before `broker.publish` runs, so this hook is the last place to refuse.
 *
 * A refused publish is rewritten to `homefacts/deadletter/<clientId>` with the reason and the
 * original payload, and accepted: it is never delivered on its own topic, nothing is lost, and
 * the client stays connected whatever its protocol version ([MQTT-3.3.5-2] lets the server
 * acknowledge a publish it does not forward).
 *
 * A fact is appended by the ledger's writer thread, in one transaction with the facts queued
 * around it, and its callback runs once that commits. Every other outcome (a refusal, a state,
 * a non-contract topic) also waits behind the facts that came before it, so aedes sees the
 * callbacks, and so publishes and acknowledges, in exactly the order the publishes arrived.
 */
export function authorizePublish (deps: AuthorizePublishDeps): AuthorizePublishHandler {
  const { ledger } = deps
  // Callbacks go back to aedes in arrival order whatever finishes first (a ledger append, a
  // retained write, nothing at all), so aedes publishes and acknowledges in arrival order too.
  let tail: Promise<void> = Promise.resolve()
  const done = Promise.resolve()
  return (client, packet, callback) => {
    const settle = (work: Promise<void>): void => {
      // Marked handled now: a failure may come before the publishes ahead of it are settled.
      work.catch(() => {})
      tail = tail.then(() => work).then(() => callback(null), (err: Error) => callback(err))
        .catch((err: unknown) => deps.log.error({ err }, 'publish callback failed'))
    }
    // A retained message is on disk before its PUBACK, so a kill -9 right after cannot lose it.
    const stored = (): Promise<void> => !packet.retain
      ? done
      : deps.storeRetained(packet).catch((err: unknown) => {
        deps.log.error({ err, clientId: client?.id, topic: packet.topic }, 'retained message not stored; publish not acknowledged')
        throw new HomefactsError(Codes.STORE, 'retained message not stored')
      })
    // Wills of clients of a dead broker are published with no client; they were checked at CONNECT.
    if (!client) return settle(stored())
    const who = deps.principals.get(client)
    const refuse = (reason: Refusal): void => {
      deps.counters.deadlettered++
      deps.log.warn({ clientId: client.id, username: who?.username, topic: packet.topic, reason }, 'publish refused, sent to the dead-letter topic')
      const letter = deadLetter(client.id, packet, reason)
      packet.topic = letter.topic
      packet.payload = letter.payload
      packet.retain = false
      settle(done)
    }
    if (!who || !canPublish(who, packet.topic)) {
      return refuse({ code: Codes.NOT_AUTHORIZED, message: `${who?.username ?? 'this client'} may not publish on "${packet.topic}"`, issues: [] })
    }
    if (!isContractTopic(packet.topic)) return settle(stored())
    // Decoded once: the contract check parses it and the ledger stores it.
    const raw = packet.payload.toString()
    let checked
    try {
      checked = checkPublish({ topic: packet.topic, payload: raw, retain: packet.retain })
    } catch (err) {
      if (!(err instanceof HomefactsError)) throw err
      return refuse({ code: err.code, message: err.message, issues: err.issues })
    }
    if (checked.kind === 'claim') {
      const claim = checked.claim
      if (claim && who.role === 'member' && claim.by !== who.member) {
        return refuse({ code: Codes.NOT_AUTHORIZED, message: `a member may only claim as themself ("${who.member}")`, issues: [{ path: 'by', message: `expected "${who.member}"` }] })
      }
      // First claim wins, enforced here so the retained claim is always the winner and a
      // late subscriber sees the same claim as everyone who watched the race.
      const held = deps.claims.get(packet.topic)
      if (claim && held && held.factId === claim.factId && held.by !== claim.by) {
        return refuse({ code: Codes.CLAIMED, message: `fact ${claim.factId} is already claimed by "${held.by}"`, issues: [{ path: 'by', message: `claimed by "${held.by}" at ${held.at}` }] })
      }
      if (claim) deps.claims.set(packet.topic, claim)
      else deps.claims.delete(packet.topic)
    }
    if (checked.kind === 'fact') {
      const topic = packet.topic
      return settle(new Promise<void>((resolve, reject) => ledger.appendDeferred(topic, checked.fact, raw, client.id, (err) => {
        if (err) {
          // Not acknowledged, so the client keeps the fact and sends it again.
          deps.log.error({ err, clientId: client.id, topic }, 'ledger append failed; publish not acknowledged')
          return reject(new HomefactsError(Codes.LEDGER, 'ledger append failed'))
        }
        deps.counters.accepted++
        resolve()
      })))
    }
    settle(stored())
  }
}
