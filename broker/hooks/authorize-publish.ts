import type { Client, PublishPacket } from 'aedes'
import type { Logger } from 'pino'
import { checkPublish, isContractTopic, Codes, HomefactsError, type Checked, type Claim, type Fact } from '#contract'
import { canPublish } from '../acl.ts'
import { deadLetter, type Refusal } from '../deadletter.ts'
import { compileFactValidator } from '../fact-validator.ts'
import { InOrder } from '../in-order.ts'
import type { Principal } from '../users.ts'
import type { Ledger } from '../ledger.ts'
import type { RetainedPublish } from '../persistence.ts'
import type { AuthorizePublishHandler, Principals } from '../principals.ts'

type Callback = Parameters<AuthorizePublishHandler>[2]

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
  const { ledger, log, counters } = deps
  // Callbacks go back to aedes in arrival order whatever finishes first (a ledger append, a
  // retained write, nothing at all), so aedes publishes and acknowledges in arrival order too.
  const order = new InOrder<Error>((err) => log.error({ err }, 'publish callback failed'))
  const validate = compileFactValidator()

  /** Accepts as is; a retained message is on disk first, so a kill -9 right after cannot lose it. */
  function accept (client: Client | null, packet: PublishPacket, callback: Callback): void {
    if (!packet.retain) return order.now(callback)
    const settle = order.take(callback)
    deps.storeRetained(packet).then(() => settle(null), (err: unknown) => {
      log.error({ err, clientId: client?.id, topic: packet.topic }, 'retained message not stored; publish not acknowledged')
      settle(new HomefactsError(Codes.STORE, 'retained message not stored'))
    })
  }

  function refuse (client: Client, who: Principal | undefined, packet: PublishPacket, reason: Refusal, callback: Callback): void {
    counters.deadlettered++
    log.warn({ clientId: client.id, username: who?.username, topic: packet.topic, reason }, 'publish refused, sent to the dead-letter topic')
    const letter = deadLetter(client.id, packet, reason)
    packet.topic = letter.topic
    packet.payload = letter.payload
    packet.retain = false
    order.now(callback)
  }

  /** In the ledger before the callback, so before the PUBACK; not acknowledged if the append fails, so the client sends it again. */
  function append (client: Client, topic: string, fact: Fact, raw: string, callback: Callback): void {
    const settle = order.take(callback)
    ledger.appendDeferred(topic, fact, raw, client.id, (err) => {
      if (!err) {
        counters.accepted++
        return settle(null)
      }
      log.error({ err, clientId: client.id, topic }, 'ledger append failed; publish not acknowledged')
      settle(new HomefactsError(Codes.LEDGER, 'ledger append failed'))
    })
  }

  /** First claim wins, enforced here so the retained claim is always the winner and a late subscriber sees the same claim as everyone who watched the race. */
  function claimRefusal (who: Principal, topic: string, claim: Claim | null): Refusal | null {
    if (claim && (who.role === 'member' || who.role === 'responder') && claim.by !== who.member) {
      return { code: Codes.NOT_AUTHORIZED, message: `a member may only claim as themself ("${who.member}")`, issues: [{ path: 'by', message: `expected "${who.member}"` }] }
    }
    const held = deps.claims.get(topic)
    if (claim && held && held.factId === claim.factId && held.by !== claim.by) {
      return { code: Codes.CLAIMED, message: `fact ${claim.factId} is already claimed by "${held.by}"`, issues: [{ path: 'by', message: `claimed by "${held.by}" at ${held.at}` }] }
    }
    if (claim) deps.claims.set(topic, claim)
    else deps.claims.delete(topic)
    return null
  }

  return (client, packet, callback) => {
    // Wills of clients of a dead broker are published with no client; they were checked at CONNECT.
    if (!client) return accept(client, packet, callback)
    const who = deps.principals.get(client)
    if (!who || !canPublish(who, packet.topic)) {
      return refuse(client, who, packet, { code: Codes.NOT_AUTHORIZED, message: `${who?.username ?? 'this client'} may not publish on "${packet.topic}"`, issues: [] }, callback)
    }
    if (!isContractTopic(packet.topic)) return accept(client, packet, callback)
    // Decoded once: the contract check parses it and the ledger stores it.
    const raw = packet.payload.toString()
    let checked: Checked
    try {
      checked = checkPublish({ topic: packet.topic, payload: raw, retain: packet.retain }, validate)
    } catch (err) {
      if (!(err instanceof HomefactsError)) throw err
      return refuse(client, who, packet, { code: err.code, message: err.message, issues: err.issues }, callback)
    }
    if (checked.kind === 'fact') return append(client, packet.topic, checked.fact, raw, callback)
    if (checked.kind === 'claim') {
      const refusal = claimRefusal(who, packet.topic, checked.claim)
      if (refusal) return refuse(client, who, packet, refusal, callback)
    }
    accept(client, packet, callback)
  }
}
