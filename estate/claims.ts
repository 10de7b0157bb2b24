import type { Logger } from 'pino'
import type { MqttClient } from 'mqtt'
import type { Subscription } from '@nats-io/transport-node'
import { z } from 'zod'
import { Claim, Codes, SEGMENT, type Issue } from '#contract'
import { publishClaim } from '#client'
import type { ClaimAuthority, Principal, Refusal } from '../broker/index.ts'
import type { Link } from './link.ts'
import { byAtOwner, claimSubjectOf } from './names.ts'

/** A claim (or a clear) on a thing, sent by another house to the house that owns it. */
const ClaimRequest = z.strictObject({
  from: z.string().regex(SEGMENT),
  /** The thing in the owner's terms: `home/<area>/<thing>`. */
  subject: z.string().regex(/^home\/[a-z0-9-]+\/[a-z0-9-]+$/),
  claim: Claim.nullable()
})
type ClaimRequest = z.infer<typeof ClaimRequest>

/** The owner's answer: `refusal` null when it accepted. */
interface ClaimReply { refusal: Refusal | null }

const unreachable = (message: string): Refusal => ({ code: Codes.ESTATE_UNREACHABLE, message, issues: [] })

/**
 * Claims across houses: the house that owns a thing settles every claim on it. Its
 * broker's claim rules are the one authority, whether the claim comes from its own members or,
 * through this, from another house's, so two people in two houses claiming one fact at once get
 * one winner and one refusal, and a house whose link is down still settles its own things alone.
 *
 * - Here (`decide`): a claim on `sites/<site>/home/...` is sent to that house as a request and
 *   waits for its answer, at most `timeoutMs`; no answer is a refusal (`HF_ESTATE_UNREACHABLE`),
 *   never a claim taken on silence.
 * - There (`serve`): the request is published on the owner's broker as a claim by
 *   `<site>/<member>`, and the broker's PUBACK (its reason code and string) is the answer.
 *
 * The winner reaches both houses as a retained claim: here at once, there through the owner's
 * bucket of retained values.
 */
export class EstateClaims implements ClaimAuthority {
  readonly #site: string
  readonly #timeoutMs: number
  readonly #log: Logger
  #link: Link | null = null
  #sub: Subscription | null = null

  constructor (opts: { site: string, timeoutMs: number, log: Logger }) {
    this.#site = opts.site
    this.#timeoutMs = opts.timeoutMs
    this.#log = opts.log
  }

  governs (who: Principal, subject: string): boolean {
    // The estate itself mirrors what the owner settled.
    return subject.startsWith('sites/') && who.role !== 'estate'
  }

  async decide (_who: Principal, subject: string, claim: Claim | null): Promise<Refusal | null> {
    const [, site, ...rest] = subject.split('/')
    const link = this.#link
    if (!link || link.nc.isClosed()) return unreachable(`this house is not linked to the estate now: "${site}" settles claims on its things`)
    const request: ClaimRequest = { from: this.#site, subject: rest.join('/'), claim: claim && { ...claim, by: byAtOwner(this.#site, claim.by) } }
    try {
      const reply = await link.nc.request(claimSubjectOf(site!), JSON.stringify(request), { timeout: this.#timeoutMs })
      return (reply.json<ClaimReply>()).refusal
    } catch (err) {
      return unreachable(`"${site}" did not settle the claim within ${this.#timeoutMs} ms: ${(err as Error).message}`)
    }
  }

  /** Links, and answers other houses' claims on this house's things through `client` (the estate's MQTT 5 connection). */
  serve (link: Link, client: MqttClient): void {
    this.#link = link
    this.#sub = link.nc.subscribe(claimSubjectOf(this.#site), {
      callback: (err, msg) => {
        if (err) return this.#log.warn({ err: err.message }, 'estate: the claim subscription failed')
        void this.#answer(msg.data, client).then((reply) => msg.respond(JSON.stringify(reply)))
      }
    })
  }

  unlink (): void {
    this.#sub?.unsubscribe()
    this.#sub = null
    this.#link = null
  }

  async #answer (data: Uint8Array, client: MqttClient): Promise<ClaimReply> {
    let request: ClaimRequest
    try {
      const r = ClaimRequest.safeParse(JSON.parse(Buffer.from(data).toString('utf8')))
      if (!r.success) return { refusal: { code: Codes.PAYLOAD, message: 'invalid claim request', issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) } }
      request = r.data
    } catch {
      return { refusal: { code: Codes.NOT_JSON, message: 'claim request is not JSON', issues: [] } }
    }
    if (request.claim && !request.claim.by.startsWith(`${request.from}/`)) {
      return { refusal: { code: Codes.NOT_AUTHORIZED, message: `a house claims only for its own members ("${request.from}/<member>")`, issues: [] } }
    }
    const topic = `${request.subject}/claim`
    const outcome = await publishClaim(client, { topic, payload: request.claim ? JSON.stringify(request.claim) : '', qos: 1, retain: true }).catch((err: unknown) => err as Error)
    if (outcome instanceof Error) return { refusal: unreachable(`the owner's broker did not take the claim: ${outcome.message}`) }
    if (outcome.status === 'acknowledged') {
      this.#log.info({ topic, from: request.from, by: request.claim?.by ?? null }, 'estate: settled a claim from another house')
      return { refusal: null }
    }
    return { refusal: refusalOfReason(outcome.reason) }
  }
}

/** The broker's reason string is `<code>: <message>` (the publish hook's refusal). */
function refusalOfReason (reason: string): Refusal {
  const m = /^(HF_[A-Z_]+): ([\s\S]*)$/.exec(reason)
  const issues: Issue[] = []
  return m ? { code: m[1] as Refusal['code'], message: m[2]!, issues } : { code: Codes.CLAIMED, message: reason, issues }
}
