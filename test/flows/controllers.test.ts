import { describe, expect, it } from 'vitest'
import { type ThingState } from '#contract'
import { makeFact, Mirror, type Seen } from '#client'
import { FactInController } from '../../flows/src/fact-in.ts'
import { FactOutController } from '../../flows/src/fact-out.ts'

/** A fixed mirror: the states a test gives it, and no waiting (nothing ever arrives). */
function fixedMirror (states: Record<string, ThingState>): Pick<Mirror, 'evidence' | 'waitForEvidence'> {
  const m = Object.create(Mirror.prototype) as Mirror
  const seen = (subject: string): Seen<ThingState> | undefined => states[subject] ? { status: 'value', value: states[subject]!, replayed: true } : undefined
  Object.defineProperty(m, 'state', { value: seen })
  return { evidence: (f) => Mirror.prototype.evidence.call(m, f), waitForEvidence: async (f) => Mirror.prototype.evidence.call(m, f) }
}

const door = (seq: number) => makeFact('door.opened', { subject: 'home/hall/front-door', source: 'devices/front-door', seq, data: {} })
const stateOf = (f: ReturnType<typeof door>): ThingState => ({ value: 'open', seq: f.seq, since: f.time, factId: f.id })

describe('FactInController', () => {
  it('subscribes by fact type and area/thing pattern', () => {
    expect(new FactInController(fixedMirror({}), { type: 'door.opened', area: 'hall' }).filter).toBe('home/hall/+/fact/opened')
    expect(new FactInController(fixedMirror({}), { topic: 'flows/+/fact/raised' }).filter).toBe('flows/+/fact/raised')
  })

  it('throws the contract\'s coded error for a fact that is not valid', async () => {
    const c = new FactInController(fixedMirror({}), { type: 'door.opened' })
    const bad = { ...JSON.parse(JSON.stringify(door(1))), data: { raw: 'high' } }
    await expect(c.handle('home/hall/front-door/fact/opened', JSON.stringify(bad))).rejects.toMatchObject({ code: 'HF_DATA' })
    await expect(c.handle('home/hall/front-door/fact/opened', '{')).rejects.toMatchObject({ code: 'HF_NOT_JSON' })
  })

  it('passes an open fact, drops a resolved one and one with no evidence', async () => {
    const open = door(2)
    const c = new FactInController(fixedMirror({ 'home/hall/front-door': stateOf(open) }), { type: 'door.opened' })
    expect(await c.handle('home/hall/front-door/fact/opened', JSON.stringify(open))).toMatchObject({ action: 'send', evidence: 'open', state: stateOf(open) })
    expect(await c.handle('home/hall/front-door/fact/opened', JSON.stringify(door(1)))).toMatchObject({ action: 'drop', reason: 'resolved' })
    const none = new FactInController(fixedMirror({}), { type: 'door.opened' })
    expect(await none.handle('home/hall/front-door/fact/opened', JSON.stringify(door(3)))).toMatchObject({ action: 'drop', reason: 'no-evidence' })
  })

  it('passes everything, with its evidence, when dropping is off', async () => {
    const c = new FactInController(fixedMirror({ 'home/hall/front-door': stateOf(door(5)) }), { dropResolved: false })
    expect(await c.handle('home/hall/front-door/fact/opened', JSON.stringify(door(1)))).toMatchObject({ action: 'send', evidence: 'resolved' })
  })
})

describe('FactOutController', () => {
  it('takes no seq for a fact the contract refuses, and publishes nothing', async () => {
    const taken: string[] = []
    const published: string[] = []
    const c = new FactOutController({ type: 'alert.raised', flow: 'night-watch', store: { next: async (k) => { taken.push(k); return 1 } }, publish: async (t) => { published.push(t) } })
    await expect(c.handle({ payload: { reason: 'x' } })).rejects.toMatchObject({ code: 'HF_DATA' })
    expect({ taken, published }).toStrictEqual({ taken: [], published: [] })
  })
})
