import type { Client, PublishPacket } from 'aedes'
import type { Logger } from 'pino'
import { checkFactTime, checkPublish, isContractTopic, Codes, HomefactsError, type Checked, type Code, type Fact } from '#contract'
import { canPublish } from '../acl.ts'
import { claimThrough, type ClaimAuthority, type ClaimBook } from '../claims.ts'
import { deadLetter, type Refusal } from '../deadletter.ts'
import type { Principal } from '../users.ts'
import type { Ledger } from '../ledger.ts'
import type { AuthorizePublishHandler, Principals } from '../principals.ts'
import type { PublishRate } from '../limits.ts'

type Callback = Parameters<AuthorizePublishHandler>[2]

/** A publish the broker makes itself (a dead letter, a cleared claim); resolves once it is stored. */
export type BrokerPublish = (packet: { topic: string, payload: Buffer, qos: 0 | 1, retain: boolean }) => Promise<void>

export interface AuthorizePublishDeps {
  principals: Principals
  ledger: Ledger
  log: Logger
  /** Every thing's current state and claim, for the claim rules. */
  claims: ClaimBook
  publish: BrokerPublish
  /** A state about to be published moves past the claimed fact: its claim is to be cleared once the state is out. */
  claimStale: (subject: string) => void
  /** Counts for `$SYS` stats. */
  counters: { accepted: number, deadlettered: number }
  /** `limits.publishesPerSecond`, per client. */
  rate: PublishRate
  /** `limits.maxPayloadBytes`. */
  maxPayloadBytes: number
  /** Settles claims on another house's things (`estate/`); none when the hub is in no estate. */
  claimAuthority?: ClaimAuthority
}

// MQTT 5 PUBACK reason codes for a refusal [MQTT-3.4.2.1].
const NOT_AUTHORIZED = 0x87
const IMPLEMENTATION_SPECIFIC_ERROR = 0x83
const PAYLOAD_FORMAT_INVALID = 0x99
const UNSPECIFIED_ERROR = 0x80
const QUOTA_EXCEEDED = 0x97
/** A DISCONNECT reason code only: a PUBACK cannot carry it [MQTT-3.4.2.1]. */
const MESSAGE_RATE_TOO_HIGH = 0x96

/** What an MQTT 5 client is told for each refusal: the ACL, a claim the broker will not vouch for, or the contract. */
function reasonCodeOf (code: string): number {
  switch (code) {
    case Codes.NOT_AUTHORIZED:
    case Codes.NOT_HOLDER:
      return NOT_AUTHORIZED
    case Codes.CLAIMED:
    case Codes.CLAIM_NOT_CURRENT:
      return IMPLEMENTATION_SPECIFIC_ERROR
    case Codes.RATE:
    case Codes.TOO_LARGE:
      return QUOTA_EXCEEDED
    case Codes.ESTATE_UNREACHABLE:
      return UNSPECIFIED_ERROR
    default:
      return PAYLOAD_FORMAT_INVALID
  }
}

/** A refusal as patched aedes answers it to an MQTT 5 client: a PUBACK with this reason code and string. */
class PublishRefused extends Error {
  readonly reasonCode: number
  constructor (reason: Refusal) {
    super(`${reason.code}: ${reason.message}`)
    this.reasonCode = reasonCodeOf(reason.code)
  }
}

/** The broker could not keep the publish: no PUBACK, and the client is disconnected, so it sends it again. */
function notKept (code: Code, message: string): Error {
  return Object.assign(new HomefactsError(code, message), { disconnect: true, reasonCode: UNSPECIFIED_ERROR })
}

/**
 * Rate, size, the ACL, the contract check, the claim rules and the ledger append, all before the
 * callback: patched aedes stores and acknowledges only what this hook lets through, each client's
 * publishes in arrival order (patches/README.md). A refused publish goes to its dead-letter topic,
 * never its own: rewritten there and acknowledged on MQTT 3.1.1 [MQTT-3.3.5-2]; on MQTT 5 the broker
 * publishes the letter, then refuses with a PUBACK reason code (the table: docs/broker.md).
 */
export function authorizePublish (deps: AuthorizePublishDeps): AuthorizePublishHandler {
  const { ledger, log, counters } = deps

  function refuse (client: Client, who: Principal | undefined, packet: PublishPacket, reason: Refusal, callback: Callback): void {
    counters.deadlettered++
    log.warn({ clientId: client.id, username: who?.username, topic: packet.topic, reason }, 'publish refused, sent to the dead-letter topic')
    const letter = deadLetter(client.id, packet, reason)
    if (client.version !== 5) {
      packet.topic = letter.topic
      packet.payload = letter.payload
      packet.retain = false
      return callback(null)
    }
    deps.publish({ ...letter, qos: packet.qos === 0 ? 0 : 1, retain: false }).then(() => callback(new PublishRefused(reason)), (err: unknown) => {
      log.error({ err, clientId: client.id }, 'dead letter not stored; publish not acknowledged')
      callback(notKept(Codes.STORE, 'dead letter not stored'))
    })
  }

  /** A client refused a whole burst in a row and still publishing: DISCONNECT 0x96 (message rate too high) on MQTT 5. */
  function disconnectFlooder (client: Client, refusedInRow: number): void {
    log.warn({ clientId: client.id, refusedInRow }, 'client kept publishing past limits.publishesPerSecond: disconnecting it')
    setImmediate(() => {
      const live = client as Client & { disconnect?: (opts: { reasonCode: number, properties?: object }) => void }
      if (client.version === 5 && live.disconnect) live.disconnect({ reasonCode: MESSAGE_RATE_TOO_HIGH, properties: { reasonString: `${Codes.RATE}: ${client.id} kept publishing past limits.publishesPerSecond` } })
      else client.close()
    })
  }

  /** In the ledger before the callback, so before the PUBACK; not acknowledged if the append fails, so the client sends it again. */
  function append (client: Client, who: Principal, packet: PublishPacket, fact: Fact, raw: string, callback: Callback): void {
    ledger.appendDeferred(packet.topic, fact, raw, client.id, (err) => {
      if (!err) {
        counters.accepted++
        withContractMetadata(packet, fact)
        return callback(null)
      }
      if (err instanceof HomefactsError && err.code === Codes.DUPLICATE_ID) {
        return refuse(client, who, packet, { code: err.code, message: err.message, issues: err.issues }, callback)
      }
      log.error({ err, clientId: client.id, topic: packet.topic }, 'ledger append failed; publish not acknowledged')
      callback(notKept(Codes.LEDGER, 'ledger append failed'))
    })
  }

  function contract (client: Client, who: Principal, packet: PublishPacket, callback: Callback): void {
    // Decoded once: the contract check parses it and the ledger stores it.
    const raw = packet.payload.toString()
    let checked: Checked
    try {
      checked = checkPublish({ topic: packet.topic, payload: raw, retain: packet.retain })
      if (checked.kind === 'fact') checkFactTime(checked.fact, Date.now())
    } catch (err) {
      if (!(err instanceof HomefactsError)) throw err
      return refuse(client, who, packet, { code: err.code, message: err.message, issues: err.issues }, callback)
    }
    switch (checked.kind) {
      case 'fact': return append(client, who, packet, checked.fact, raw, callback)
      case 'claim': {
        if (deps.claimAuthority?.governs(who, checked.topic.subject) === true) {
          // Another house's thing: that house settles the claim.
          return void claimThrough(deps.claims, deps.claimAuthority, who, checked.topic.subject, checked.claim)
            .then((r) => r ? refuse(client, who, packet, r, callback) : callback(null))
        }
        const refusal = deps.claims.publishClaim(who, checked.topic.subject, checked.claim)
        if (refusal) return refuse(client, who, packet, refusal, callback)
        return callback(null)
      }
      case 'state': {
        if (deps.claims.publishState(checked.topic.subject, checked.state)) deps.claimStale(checked.topic.subject)
        return callback(null)
      }
      default: return callback(null)
    }
  }

  return (client, packet, callback) => {
    // Wills of clients of a dead broker are published with no client; they were checked at CONNECT.
    if (!client) return callback(null)
    const who = deps.principals.get(client)
    const refusedInRow = deps.rate.take(client)
    if (refusedInRow > 0) {
      refuse(client, who, packet, { code: Codes.RATE, message: `${client.id} publishes faster than limits.publishesPerSecond allows`, issues: [] }, callback)
      // Refused a whole burst in a row, and still publishing.
      if (refusedInRow === deps.rate.burst + 1) disconnectFlooder(client, refusedInRow)
      return
    }
    if (packet.payload.length > deps.maxPayloadBytes) {
      const letter = { ...packet, payload: Buffer.from(packet.payload).subarray(0, 1024) }
      return refuse(client, who, letter as PublishPacket, { code: Codes.TOO_LARGE, message: `payload of ${packet.payload.length} bytes; limits.maxPayloadBytes is ${deps.maxPayloadBytes} (the dead letter keeps its first 1024)`, issues: [] }, callback)
    }
    if (!who || !canPublish(who, packet.topic)) {
      return refuse(client, who, packet, { code: Codes.NOT_AUTHORIZED, message: `${who?.username ?? 'this client'} may not publish on "${packet.topic}"`, issues: [] }, callback)
    }
    if (!isContractTopic(packet.topic)) return callback(null)
    contract(client, who, packet, callback)
  }
}

/** The content type of a fact's payload (a structured-mode CloudEvent), as MQTT 5 subscribers see it. */
export const FACT_CONTENT_TYPE = 'application/cloudevents+json'

/**
 * An accepted fact's metadata as MQTT 5 properties, from the envelope the broker validated, so a
 * v5 subscriber routes without parsing: user properties `type` and `id` (over any the publisher
 * sent), the content type and the UTF-8 payload format indicator [MQTT-3.3.2.3.2].
 */
function withContractMetadata (packet: PublishPacket, fact: Fact): void {
  const given = packet.properties?.userProperties ?? {}
  packet.properties = {
    ...packet.properties,
    payloadFormatIndicator: true,
    contentType: FACT_CONTENT_TYPE,
    userProperties: { ...given, type: fact.type, id: fact.id }
  }
}
