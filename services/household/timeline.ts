import { HouseholdDecided, HouseholdEscalated, HouseholdOffered, HouseholdOfferWithdrawn, parseTopic, type Fact } from '#contract'

/**
 * One readable line per message of a household story (the `homefacts demo` timeline):
 * who saw which fact, what they decided and why. Pure; returns `null` for what it does not show.
 */
export function timelineLine (topic: string, payload: string, elapsedMs: number): string | null {
  const at = `[${(elapsedMs / 1000).toFixed(1).padStart(5)}s]`
  const row = (who: string, text: string): string => `${at}  ${who.padEnd(8)} ${text}`
  if (topic.startsWith('homefacts/deadletter/')) {
    const letter = safe(payload) as { reason?: { code?: string, message?: string } } | null
    return row('broker', `refused a publish from ${topic.slice('homefacts/deadletter/'.length)}: ${letter?.reason?.code ?? '?'} ${letter?.reason?.message ?? ''}`)
  }
  const t = parseTopic(topic)
  if (!t) return null
  const thing = 'thing' in t && t.thing ? t.thing : ''
  switch (t.kind) {
    case 'state': {
      const s = safe(payload) as { value?: string, seq?: number } | null
      return row(thing, `state is now "${s?.value}" (seq ${s?.seq})`)
    }
    case 'claim': {
      const c = safe(payload) as { factId?: string, by?: string } | null
      return c ? row(thing, `claimed by ${c.by} (fact ${short(c.factId)})`) : row(thing, 'claim cleared')
    }
    case 'presence':
      return row(t.member, `presence: ${payload}`)
    case 'fact': {
      const f = safe(payload) as Fact | null
      if (!f) return null
      if (f.type === HouseholdDecided.TYPE) {
        const d = f.data as HouseholdDecided.HouseholdDecided
        return row(d.member, `saw ${d.fact.type} ${short(d.fact.id)} (seq ${d.fact.seq}) → ${d.decision.toUpperCase()} [${d.reason}]: ${d.detail}`)
      }
      if (f.type === HouseholdOffered.TYPE) {
        const o = f.data as HouseholdOffered.HouseholdOffered
        return row(o.member, `asked: "I'll do it?" for ${o.factType} ${short(o.factId)} on ${o.subject}`)
      }
      if (f.type === HouseholdOfferWithdrawn.TYPE) {
        const w = f.data as HouseholdOfferWithdrawn.HouseholdOfferWithdrawn
        return row(w.member, `offer withdrawn (${w.reason}: ${w.detail}) for fact ${short(w.factId)}`)
      }
      if (f.type === HouseholdEscalated.TYPE) {
        const e = f.data as HouseholdEscalated.HouseholdEscalated
        return row(e.member, `⚠ ESCALATED step ${e.step} (${e.priority}): ${e.detail}; notify ${e.member} (fact ${short(e.factId)})`)
      }
      return row(thing || t.subject, `fact ${f.type} ${short(f.id)} (seq ${f.seq}) ${JSON.stringify(f.data)}`)
    }
    default:
      return null
  }
}

/** The last characters of a ULID: enough to tell the facts of one story apart. */
export const short = (id: string | undefined): string => id ? `…${id.slice(-6)}` : '?'

function safe (payload: string): unknown {
  if (payload === '') return null
  try {
    return JSON.parse(payload)
  } catch {
    return null
  }
}
