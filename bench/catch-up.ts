import { pino } from 'pino'
import { factName, memberFactTopic, presenceTopic, stateTopic, thingFactTopic, thingSubject, type Fact, type ThingState } from '#contract'
import { makeFact } from '#client'
import { Household, HouseholdConfig } from '../services/household/index.ts'
import type { Target } from './target.ts'
import { connect, endAll, msSince, nowNs, publishWindowed, subscribe, type Outgoing } from './load.ts'

/** The household member the bench responder speaks for (the hub's bench `responder` user). */
const MEMBER = 'bench'

export interface CatchUpResult {
  elapsedMs: number
  facts: number
  /** Decisions that were not the expected one (skip/resolved for a refilled cup, claim/open for the last fact of each). */
  wrong: number
}

/**
 * `cups` cups each empty `perCup` times, refilled after each time but the last, while the
 * member's responder is away: `cups × perCup` queued `cup.empty` facts, all but `cups` of them
 * resolved. Time from `start()` of the responder (the real `services/household` one, in this
 * process, over MQTT 5) to its last `household.decided` fact, received by another client.
 */
export async function catchUp (b: Target, opts: { cups: number, perCup: number, tag: string }): Promise<CatchUpResult> {
  const house = new Household({
    // The member chose `auto`: its agent claims each open fact for it, as the catch-up measures.
    household: HouseholdConfig.parse({ members: [{ name: MEMBER }], policies: { 'cup.empty': { auto: [MEMBER] } } }),
    mqttUrl: b.url,
    credentials: async () => b.responder ?? {},
    log: pino({ level: 'silent' })
  })
  const reader = await connect(b.url, `bench-${opts.tag}-decided`, b.reader)
  const device = await connect(b.url, `bench-${opts.tag}-cups`, b.device)
  try {
    // The hub retains a member's default presence; the bench stands in for it.
    await reader.publishAsync(presenceTopic(MEMBER), 'home', { qos: 1, retain: true })
    await subscribe(reader, memberFactTopic(MEMBER, 'decided'))
    // A first start creates the persistent session, which then queues the facts.
    await house.start()
    await house.stop()
    const { msgs, expected } = buildCatchUp(opts.tag, opts.cups, opts.perCup)
    await publishWindowed(device, msgs, 32)
    const facts = expected.size
    const seen = new Map<string, string>()
    const all = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`catch-up: ${seen.size} of ${facts} decided in 60 s`)), 60_000)
      reader.on('message', (_topic: string, payload: Buffer) => {
        const f = JSON.parse(payload.toString()) as Fact<'household.decided'>
        // Only this run's facts: one left unacknowledged by a stop may come again.
        if (!expected.has(f.causationid!)) return
        seen.set(f.causationid!, `${f.data.decision}/${f.data.reason}`)
        if (seen.size === facts) { clearTimeout(timer); resolve() }
      })
    })
    const start = nowNs()
    await house.start()
    await all
    const elapsedMs = msSince(start)
    const wrong = [...expected].filter(([id, want]) => seen.get(id) !== want).length
    return { elapsedMs, facts, wrong }
  } finally {
    await house.stop()
    await endAll([reader, device])
  }
}

/** The publishes of the scenario, in order, and the decision expected for each `cup.empty`. */
function buildCatchUp (tag: string, cups: number, perCup: number): { msgs: Outgoing[], expected: Map<string, string> } {
  const msgs: Outgoing[] = []
  const expected = new Map<string, string>()
  const emit = (thing: string, type: 'cup.empty' | 'cup.filled', seq: number): Fact => {
    const fact = makeFact(type, { subject: thingSubject(tag, thing), source: `devices/${tag}-${thing}`, seq, data: { level: type === 'cup.empty' ? 0.02 : 0.95 } })
    const state: ThingState = { value: type === 'cup.empty' ? 'empty' : 'full', seq, since: fact.time, factId: fact.id }
    msgs.push({ topic: thingFactTopic(tag, thing, factName(type)), payload: Buffer.from(JSON.stringify(fact)) })
    msgs.push({ topic: stateTopic(tag, thing), payload: Buffer.from(JSON.stringify(state)), retain: true })
    return fact
  }
  for (let c = 0; c < cups; c++) {
    let seq = 0
    for (let k = 0; k < perCup; k++) {
      const empty = emit(`cup-${c}`, 'cup.empty', ++seq)
      if (k === perCup - 1) {
        expected.set(empty.id, 'claim/open')
      } else {
        expected.set(empty.id, 'skip/resolved')
        emit(`cup-${c}`, 'cup.filled', ++seq)
      }
    }
  }
  return { msgs, expected }
}
