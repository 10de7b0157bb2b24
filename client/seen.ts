import type { Claim, Code, Issue, Presence, ThingState } from '#contract'

/**
 * What a mirror holds for one retained topic. `undefined` (not a `Seen`) means nothing has
 * arrived for it: MQTT has no "nothing is retained" answer, so that is never taken as "none".
 *
 * - `value`: a valid retained value.
 * - `cleared`: an empty retained payload, i.e. the topic was cleared. For a claim that is
 *   positive evidence of no claim [MQTT-3.3.1-10].
 * - `unreadable`: a payload the contract refuses. Recorded with the coded error, never read as none.
 *
 * `replayed` is true when it came as a retained message in answer to the mirror's SUBSCRIBE
 * (RETAIN set), false when it was forwarded live (RETAIN cleared) [MQTT-3.3.1-9].
 */
export type Seen<T> =
  | { status: 'value', value: T, replayed: boolean }
  | { status: 'cleared', replayed: boolean }
  | { status: 'unreadable', replayed: boolean, error: { code: Code, message: string, issues: readonly Issue[] }, payload: string }

/** A read-only view of retained states, claims and presence: a `Mirror`, or a fixed one in tests. */
export interface MirrorView {
  /** The state of a subject (`home/<area>/<thing>`). */
  state: (subject: string) => Seen<ThingState> | undefined
  /** The claim on a subject. */
  claim: (subject: string) => Seen<Claim> | undefined
  /** The presence of a household member. */
  presence: (member: string) => Seen<Presence> | undefined
}
