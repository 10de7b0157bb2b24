import { registry, type FactType } from '#contract'

/** The two settled states every homefacts thing has; `low` and `high` are levels 0 and 1. */
export type Side = 'low' | 'high'

/** What a kind of thing is: which fact it emits on each side, and how Home Assistant shows it. */
export interface KindDefinition {
  /** Fact type emitted when the reading settles at or below the low threshold. */
  readonly low: FactType
  /** Fact type emitted when the reading settles at or above the high threshold. */
  readonly high: FactType
  /** The default controller when a things entry names none. */
  readonly controller: 'FSR' | 'BUTTON'
  /** Defaults: thresholds on the 0..1 level, and how long a new side must hold. */
  readonly thresholds: { readonly low: number, readonly high: number }
  readonly debounceMs: number
  /** Whether `data` carries the fill level (cups) or only the raw reading. */
  readonly level: boolean
  /** Home Assistant component: a sensor with enum values, or a binary sensor with a class. */
  readonly ha: { readonly platform: 'sensor' } | { readonly platform: 'binary_sensor', readonly deviceClass: string }
}

/**
 * Every kind a things file may name. A new kind is one entry here plus its two fact files in
 * the contract. The state values come from the facts' `STATE`, so they cannot drift.
 */
export const Kinds = {
  cup: { low: 'cup.empty', high: 'cup.filled', controller: 'FSR', thresholds: { low: 0.15, high: 0.85 }, debounceMs: 500, level: true, ha: { platform: 'sensor' } },
  button: { low: 'button.released', high: 'button.pressed', controller: 'BUTTON', thresholds: { low: 0.5, high: 0.5 }, debounceMs: 30, level: false, ha: { platform: 'binary_sensor', deviceClass: 'running' } },
  door: { low: 'door.closed', high: 'door.opened', controller: 'BUTTON', thresholds: { low: 0.5, high: 0.5 }, debounceMs: 100, level: false, ha: { platform: 'binary_sensor', deviceClass: 'door' } },
  motion: { low: 'motion.cleared', high: 'motion.detected', controller: 'BUTTON', thresholds: { low: 0.5, high: 0.5 }, debounceMs: 0, level: false, ha: { platform: 'binary_sensor', deviceClass: 'motion' } }
} as const satisfies Record<string, KindDefinition>

export type Kind = keyof typeof Kinds
export const KIND_NAMES = Object.keys(Kinds) as Kind[]

/** The retained state value a side of a kind sets, e.g. `cup`/`low` → `empty`. */
export function stateValue (kind: Kind, side: Side): string {
  const def: { STATE?: string } = registry[Kinds[kind][side]]
  return def.STATE ?? side
}
