import { thingSubject, type Fact } from '#contract'
import { makeFact } from '#client'

/** A valid `cup.empty` fact about `home/<area>/<thing>`. */
export function cupEmpty (seq = 1, area = 'kitchen', thing = 'lily-cup', level = 0.02): Fact<'cup.empty'> {
  return makeFact('cup.empty', { subject: thingSubject(area, thing), source: `devices/${area}-${thing}`, seq, data: { level } })
}

/** A valid `cup.filled` fact about `home/<area>/<thing>`. */
export function cupFilled (seq = 2, area = 'kitchen', thing = 'lily-cup', level = 0.95): Fact<'cup.filled'> {
  return makeFact('cup.filled', { subject: thingSubject(area, thing), source: `devices/${area}-${thing}`, seq, data: { level } })
}
