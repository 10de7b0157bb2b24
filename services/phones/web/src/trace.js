// The trace of one fact, read from the ledger: fact → decisions → notifications → claim → resolution.
import { esc } from './view.js'

const when = (e) => `<time class="when" datetime="${esc(e.fact.time)}">${esc(new Date(e.fact.time).toLocaleTimeString())}</time>`

/** One line of the story, in words. */
export function describe (f) {
  const d = f.data ?? {}
  switch (f.type) {
    case 'household.decided': return `<strong>${esc(d.member)}</strong> decided <strong>${esc(d.decision)}</strong> (${esc(d.reason)}): ${esc(d.detail)}`
    case 'household.escalated': return `escalated to <strong>${esc(d.member)}</strong>, step ${esc(d.step)}, ${esc(d.priority)}: ${esc(d.detail)}`
    case 'household.claimed': return `claimed by <strong>${esc(d.by)}</strong>`
    case 'household.offered': return `offered to <strong>${esc(d.member)}</strong>: "I'll do it?"`
    case 'household.offer-withdrawn': return `offer to <strong>${esc(d.member)}</strong> withdrawn (${esc(d.reason)}): ${esc(d.detail)}`
    case 'notification.sent': return `sent to ${esc(d.recipient)} by <strong>${esc(d.channel)}</strong>: ${esc(d.message)}`
    case 'notification.failed': return `<span class="error">failed</span> to ${esc(d.recipient)} by <strong>${esc(d.channel)}</strong> after ${esc(d.attempts)} attempts: ${esc(d.reason)}`
    case 'notification.withdrawn': return `withdrawn from ${esc(d.recipient)}'s <strong>${esc(d.channel)}</strong> (${esc(d.reason)}): ${esc(d.detail)}`
    default: return `<strong>${esc(f.type)}</strong> about ${esc(f.subject)} (seq ${esc(f.seq)}) ${esc(JSON.stringify(d))}`
  }
}

export function traceView (t) {
  const items = [
    `<li class="step" data-type="${esc(t.fact.fact.type)}">${when(t.fact)} the fact: ${describe(t.fact.fact)}</li>`,
    ...t.steps.map((s) => `<li class="step" data-type="${esc(s.fact.type)}">${when(s)} ${describe(s.fact)}</li>`),
    t.resolution
      ? `<li class="step resolution" data-type="resolution">${when(t.resolution)} resolved: ${describe(t.resolution.fact)}</li>`
      : '<li class="step muted" data-type="open">still open</li>'
  ]
  return `<section aria-labelledby="trace-h"><h2 id="trace-h">Trace</h2>
    <p><a href="#/">← back</a> · <code>${esc(t.fact.fact.id)}</code></p>
    <ol class="trace">${items.join('')}</ol></section>`
}
