import { thingSubject, type Presence, type ThingState } from '#contract'
import type { Mirror, Seen } from '#client'

export interface StateOptions {
  /** The thing to read; when empty, `msg.subject` (`home/<area>/<thing>`) or `msg.fact.subject` names it. */
  area?: string
  thing?: string
  /** How long to wait for the mirror to hear the thing's retained state (and the members' presence) at all. */
  timeoutMs?: number
  /**
   * The household members whose presence a decision needs (comma-separated in the node). The
   * read waits, within the bound, until the mirror holds each one's retained presence: no
   * presence heard is `null`, never "away" or "home".
   */
  members?: readonly string[]
}

export interface StateResult {
  subject: string
  /** The state, or `null` when the mirror holds none (cleared, unreadable, or nothing heard in time). */
  state: ThingState | null
  seen: Seen<ThingState> | undefined
  /** The listed members' presence (`null` when none was heard), and any other member's the mirror holds. */
  presence: Record<string, Presence | null>
}

/** The work of a `state` node: the current retained state of a thing, from the mirror. */
export class StateController {
  #mirror: Pick<Mirror, 'state' | 'presence' | 'waitFor'>
  #presence: () => Record<string, Presence>
  #opts: StateOptions

  constructor (mirror: Pick<Mirror, 'state' | 'presence' | 'waitFor'>, presence: () => Record<string, Presence>, opts: StateOptions = {}) {
    this.#mirror = mirror
    this.#presence = presence
    this.#opts = opts
    if (opts.area || opts.thing) thingSubject(opts.area ?? '', opts.thing ?? '')
  }

  async handle (msg: { subject?: unknown, fact?: { subject?: unknown } }): Promise<StateResult> {
    const { area, thing } = this.#opts
    const subject = area && thing
      ? thingSubject(area, thing)
      : typeof msg.subject === 'string' ? msg.subject : typeof msg.fact?.subject === 'string' ? msg.fact.subject : ''
    if (!/^home\/[^/]+\/[^/]+$/.test(subject)) throw new Error(`no thing to read: set the node's area and thing, or msg.subject ("home/<area>/<thing>")`)
    // Silence is not "no state": wait (bounded) until the mirror has heard the retained value.
    const timeoutMs = this.#opts.timeoutMs ?? 2000
    const members = this.#opts.members ?? []
    const [seen] = await Promise.all([
      this.#mirror.waitFor(() => this.#mirror.state(subject), { timeoutMs }),
      this.#mirror.waitFor(() => members.every((m) => this.#mirror.presence(m) !== undefined) ? true : undefined, { timeoutMs })
    ])
    const presence: Record<string, Presence | null> = { ...this.#presence() }
    for (const m of members) {
      const p = this.#mirror.presence(m)
      presence[m] = p?.status === 'value' ? p.value : null
    }
    return { subject, state: seen?.status === 'value' ? seen.value : null, seen, presence }
  }
}
