import { Codes, type Claim, type ThingState } from '#contract'
import type { Refusal } from './deadletter.ts'
import type { Principal } from './users.ts'

/**
 * Who settles a claim on a thing of another house (`sites/<site>/home/<area>/<thing>`): the publish
 * hook asks it once the local rules passed. Its logic lives in `estate/`.
 */
export interface ClaimAuthority {
  /** True when a claim on `subject` by `who` is settled by the authority (not by this broker alone). */
  governs: (who: Principal, subject: string) => boolean
  /** Settles a claim (or a clear, `null`) on `subject`; resolves with why it is refused, or `null`. */
  decide: (who: Principal, subject: string, claim: Claim | null) => Promise<Refusal | null>
}

/** The estate's own principal: what the owner settled is recorded as the estate's. */
const ESTATE: Principal = { username: 'homefacts-estate', role: 'estate' }

/**
 * A claim the authority governs: this broker's rules first (the current fact, a member claiming
 * as themself), then the authority's answer; recorded in `book` only once it accepted. An
 * authority that fails is a refusal (`HF_ESTATE_UNREACHABLE`), never a claim taken on silence.
 */
export async function claimThrough (book: ClaimBook, authority: ClaimAuthority, who: Principal, subject: string, claim: Claim | null): Promise<Refusal | null> {
  const local = book.checkClaim(who, subject, claim)
  if (local) return local
  const answer = await authority.decide(who, subject, claim).catch((err: unknown): Refusal => ({ code: Codes.ESTATE_UNREACHABLE, message: String(err), issues: [] }))
  return answer ?? book.publishClaim(ESTATE, subject, claim)
}

/** True for a subject of another house of the estate (`sites/<site>/...`). */
const remote = (subject: string): boolean => subject.startsWith('sites/')
/** A member of another house, as this house names them: `<site>/<member>`. */
const remoteMember = (by: string): boolean => by.includes('/')

/**
 * The broker's record of every thing's current state and claim, so it can vouch for claims (the
 * rules: docs/broker.md, "What a publish passes"). Fed in broker order by the publish hook, and at
 * start from the retained messages. Pure data: the hook publishes what it is told to.
 */
export class ClaimBook {
  /** By subject (`home/<area>/<thing>`). */
  readonly #states = new Map<string, ThingState>()
  readonly #claims = new Map<string, Claim>()

  /** The claim held on a subject, if any. */
  claim (subject: string): Claim | undefined {
    return this.#claims.get(subject)
  }

  /** Takes a retained state and claim as found at start (no rule applies to what is already there). */
  load (subject: string, state: ThingState | undefined, claim: Claim | undefined): void {
    if (state) this.#states.set(subject, state)
    if (claim) this.#claims.set(subject, claim)
  }

  /** The subjects whose retained claim names a fact their state has moved past (to clear at start). */
  stale (): string[] {
    return [...this.#claims].filter(([subject, c]) => this.#states.get(subject)?.factId !== c.factId).map(([subject]) => subject)
  }

  /** Checks a claim (or a clear, `null`) by `who` on `subject` and records it if accepted; returns why it is refused, or `null`. */
  publishClaim (who: Principal, subject: string, claim: Claim | null): Refusal | null {
    const refusal = this.checkClaim(who, subject, claim)
    if (refusal) return refusal
    if (claim === null) this.#claims.delete(subject)
    else this.#claims.set(subject, claim)
    return null
  }

  /** What `publishClaim` would answer, recording nothing. */
  checkClaim (who: Principal, subject: string, claim: Claim | null): Refusal | null {
    const held = this.#claims.get(subject)
    // The estate mirrors another house's claims as that house settled them.
    if (who.role === 'estate' && remote(subject)) return null
    if (claim === null) {
      if (held && who.role === 'estate' && remoteMember(held.by)) return null
      if (held && who.role !== 'admin' && who.member !== held.by && !(who.role === 'nodered' && who.members?.includes(held.by))) {
        return { code: Codes.NOT_HOLDER, message: `only "${held.by}" (who holds the claim) or an admin may clear it`, issues: [{ path: '', message: `claimed by "${held.by}" for fact ${held.factId}` }] }
      }
      return null
    }
    if (who.role === 'estate' && !remoteMember(claim.by)) {
      return { code: Codes.NOT_AUTHORIZED, message: 'the estate claims only for members of other houses ("<site>/<member>")', issues: [{ path: 'by', message: `"${claim.by}" names no site` }] }
    }
    if ((who.role === 'member' || who.role === 'responder') && claim.by !== who.member) {
      return { code: Codes.NOT_AUTHORIZED, message: `a member may only claim as themself ("${who.member}")`, issues: [{ path: 'by', message: `expected "${who.member}"` }] }
    }
    // A button (a device bound to a member) speaks for its member only; the ACL keeps it to its things.
    if (who.role === 'device' && (who.member === undefined || claim.by !== who.member)) {
      const message = who.member === undefined ? 'a device claims nothing unless it is bound to a member (users add --role device --member <name>)' : `this button claims only as "${who.member}"`
      return { code: Codes.NOT_AUTHORIZED, message, issues: [{ path: 'by', message: who.member === undefined ? 'no member' : `expected "${who.member}"` }] }
    }
    if (who.role === 'nodered' && !who.members?.includes(claim.by)) {
      return { code: Codes.NOT_AUTHORIZED, message: `Node-RED may only claim as its configured members (${(who.members ?? []).join(', ') || 'none'})`, issues: [{ path: 'by', message: `"${claim.by}" is not one of them` }] }
    }
    const state = this.#states.get(subject)
    if (state?.factId !== claim.factId) {
      const now = state ? `its state names fact ${state.factId} (seq ${state.seq})` : 'it has no state'
      return { code: Codes.CLAIM_NOT_CURRENT, message: `fact ${claim.factId} is not the current fact of ${subject}: ${now}`, issues: [{ path: 'factId', message: state ? `expected ${state.factId}` : 'no current fact' }] }
    }
    if (held && held.factId === claim.factId && held.by !== claim.by) {
      return { code: Codes.CLAIMED, message: `fact ${claim.factId} is already claimed by "${held.by}"`, issues: [{ path: 'by', message: `claimed by "${held.by}" at ${held.at}` }] }
    }
    return null
  }

  /** Records a new state of `subject`; true when it moves past the claimed fact (the caller clears the retained claim). */
  publishState (subject: string, state: ThingState): boolean {
    this.#states.set(subject, state)
    const held = this.#claims.get(subject)
    if (!held || held.factId === state.factId) return false
    this.#claims.delete(subject)
    return true
  }
}
