import { type Claim, type Fact, type HouseholdDecided, type Presence, type ThingState } from '#contract'
import { makeFact } from '#client'
import type { MirrorChange, MirrorView, Seen } from '#client'
import { HouseholdConfig } from '../../services/household/config.ts'
import { initialState, type Decision, type ResponderState } from '../../services/household/decide.ts'

/** Pure fixtures for `decide()`: a household, facts, and a fixed mirror view. */

export const T0 = Date.parse('2026-11-29T14:00:00.000Z')
export const SUBJECT = 'home/kitchen/lily-cup'
export const household = HouseholdConfig.parse({
  members: [{ name: 'mummy' }, { name: 'grandma', role: 'grandparent' }],
  // Both chose `auto`: their agents claim for them, as every agent did before offers.
  policies: { 'cup.empty': { auto: ['mummy', 'grandma'], escalation: [{ afterSeconds: 60, priority: 'high' }, { afterSeconds: 300, notify: { roles: ['grandparent'] } }] } },
  evidenceTimeoutMs: 500,
  clearClaimAfterMs: 1000
})
export const [mummy, grandma] = household.members as [HouseholdConfig['members'][0], HouseholdConfig['members'][0]]
export const start = (me = mummy): ResponderState => initialState(me, household, 100)
export const empty = (seq = 1): Fact => makeFact('cup.empty', { subject: SUBJECT, source: 'devices/kitchen-lily-cup', seq, time: new Date(T0), data: { level: 0 } })
export const stateOf = (f: Fact, value = 'empty'): ThingState => ({ value, seq: f.seq, since: f.time, factId: f.id })
export const full = (f: Fact, seq = f.seq + 1): ThingState => ({ value: 'full', seq, since: f.time, factId: '01JDX00000000000000000FULL' })
export const claim = (f: Fact, by: string): Claim => ({ factId: f.id, by, at: f.time })

const value = <T>(v: T): Seen<T> => ({ status: 'value', value: v, replayed: true })

/** What a mirror could hold: `undefined` is "nothing seen", a plain value is a valid one. */
export interface Held {
  state?: ThingState | Seen<ThingState>
  claim?: Claim | Seen<Claim>
  presence?: Presence | Seen<Presence>
}

const seen = <T>(v: T | Seen<T> | undefined): Seen<T> | undefined =>
  v === undefined ? undefined : typeof v === 'object' && v !== null && 'status' in v ? v : value(v as T)

/** A fixed mirror view of one subject and Mummy's (or anyone's) presence. */
export function view (held: Held = {}): MirrorView {
  return {
    state: (s) => s === SUBJECT ? seen(held.state) : undefined,
    claim: (s) => s === SUBJECT ? seen(held.claim) : undefined,
    presence: () => seen(held.presence)
  }
}

/** The mirror change a view's subject had. */
export const changed = (kind: 'state' | 'claim' | 'presence', held: Held, member = 'mummy'): MirrorChange => {
  const v = view(held)
  if (kind === 'state') return { kind, topic: `${SUBJECT}/state`, subject: SUBJECT, seen: v.state(SUBJECT)! }
  if (kind === 'claim') return { kind, topic: `${SUBJECT}/claim`, subject: SUBJECT, seen: v.claim(SUBJECT) ?? { status: 'cleared', replayed: false } }
  return { kind, topic: `household/${member}/presence`, member, seen: v.presence(member)! }
}

/** The publishes of a decision, payloads parsed ('' stays ''). */
export const payloads = (d: Pick<Decision, 'publish'>): unknown[] => d.publish.map((p) => p.payload === '' ? '' : JSON.parse(p.payload))

/** The `household.decided` data a decision published. */
export const verdicts = (d: Pick<Decision, 'publish'>): Pick<HouseholdDecided.HouseholdDecided, 'decision' | 'reason'>[] =>
  d.publish.filter((p) => p.topic.endsWith('/fact/decided')).map((p) => {
    const { decision, reason } = (JSON.parse(p.payload) as Fact<'household.decided'>).data
    return { decision, reason }
  })
