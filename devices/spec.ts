import { z } from 'zod'
import { SEGMENT } from '#contract'
import { CONTROLLER_NAMES, type ControllerName } from './cup/controllers.ts'
import { KIND_NAMES, Kinds, type Kind } from './kinds.ts'

const Segment = z.string().regex(SEGMENT, 'must be lower-case kebab-case, like "lily-cup"')
const Level = z.number().min(0).max(1)

/** One thing as a things file (or the `device cup` flags) declares it. Defaults come from its kind. */
export const ThingEntry = z.strictObject({
  kind: z.enum(KIND_NAMES as [Kind, ...Kind[]]).describe('What the thing is: cup, button, door or motion'),
  area: Segment.describe('Area of the house'),
  thing: Segment.describe('Thing name, unique in its area'),
  name: z.string().min(1).optional().describe('Display name in Home Assistant'),
  controller: z.enum(CONTROLLER_NAMES as [ControllerName, ...ControllerName[]]).optional().describe('How it is read: FSR (analog), BUTTON (digital) or SIMULATED; default by kind'),
  pin: z.union([z.string().regex(/^[AD]?\d+$/, 'must be a pin like "A0" or 2'), z.number().int().min(0)]).optional().describe('Board pin: "A0" for FSR, a digital pin number for BUTTON'),
  calibration: z.strictObject({
    empty: z.number().describe('Raw reading with the empty cup on the sensor'),
    full: z.number().describe('Raw reading with the full cup on the sensor')
  }).refine((c) => c.empty !== c.full, 'empty and full readings must differ').optional().describe('FSR: raw readings that map to level 0 and 1'),
  thresholds: z.strictObject({
    low: Level.describe('At or below this level the thing is on its low side (cup: empty)'),
    high: Level.describe('At or above this level it is on its high side (cup: full)')
  }).refine((t) => t.low <= t.high, 'low must not be above high').optional().describe('Hysteresis band on the 0..1 level'),
  debounceMs: z.number().int().min(0).max(60_000).optional().describe('How long a new reading must hold before it counts'),
  invert: z.boolean().default(false).describe('BUTTON: reverse the input (a normally-closed contact)'),
  pullup: z.boolean().default(false).describe('BUTTON: use the internal pull-up; the contact closes to ground')
})
export type ThingEntry = z.input<typeof ThingEntry>

/** A thing with every default filled in: what a device runs. */
export interface ThingSpec {
  kind: Kind
  area: string
  thing: string
  name?: string | undefined
  controller: ControllerName
  pin?: string | number | undefined
  calibration: { empty: number, full: number }
  thresholds: { low: number, high: number }
  debounceMs: number
  invert: boolean
  pullup: boolean
}

/** Fills a parsed entry's defaults from its kind; `simulate` swaps the controller for SIMULATED. */
export function toSpec (entry: z.output<typeof ThingEntry>, simulate = false): ThingSpec {
  const kind = Kinds[entry.kind]
  return {
    kind: entry.kind,
    area: entry.area,
    thing: entry.thing,
    name: entry.name,
    controller: simulate ? 'SIMULATED' : entry.controller ?? kind.controller,
    pin: entry.pin,
    // A 10-bit ADC reads 0..1023; a cup on an FSR in a 10 kΩ divider reads about 300..800.
    calibration: entry.calibration ?? { empty: 0, full: 1023 },
    thresholds: entry.thresholds ?? { ...kind.thresholds },
    debounceMs: entry.debounceMs ?? kind.debounceMs,
    invert: entry.invert,
    pullup: entry.pullup
  }
}
