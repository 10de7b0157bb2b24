// What the page shows, as HTML strings; every value from the wire goes through `esc`.

export const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])

/** "30 s ago", "2 min ago", "3 h ago", "2 d ago". */
export function ago (iso, now = Date.now()) {
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return ''
  const s = Math.max(0, Math.round((now - t) / 1000))
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  return `${Math.floor(s / 86_400)} d ago`
}

const age = (iso) => `<time class="age" datetime="${esc(iso)}">${esc(ago(iso))}</time>`
const traceLink = (id, text = 'trace') => `<a href="#/trace/${encodeURIComponent(id)}">${esc(text)}</a>`

export function loginView ({ error = '', busy = false } = {}) {
  return `<section aria-labelledby="login-h"><h2 id="login-h">Log in</h2>
  <form id="login" novalidate>
    <label>User name <input name="username" id="username" autocomplete="username" autocapitalize="none" required></label>
    <label>Password <input name="password" id="password" type="password" autocomplete="current-password" required></label>
    <button type="submit" ${busy ? 'disabled' : ''}>Log in</button>
    <p id="login-error" class="error" role="alert">${esc(error)}</p>
  </form></section>`
}

/** An open fact: the thing's current state names a fact of an actionable type, still at its seq. */
export function openFacts (live, facts, actionable) {
  const out = []
  for (const t of live.things.values()) {
    const s = t.state
    if (!s?.factId) continue
    const entry = facts.get(s.factId)
    if (!entry?.fact || !actionable.includes(entry.fact.type) || entry.fact.seq !== s.seq) continue
    out.push({ thing: t, fact: entry.fact, claim: t.claim?.factId === s.factId ? t.claim : null })
  }
  return out.sort((a, b) => a.fact.time.localeCompare(b.fact.time))
}

function openFactsView (open, me, errors, offers) {
  // An offer stands while nobody else holds the fact: a claim by another withdraws it.
  const asked = (fact, claim) => offers.has(fact.id) && (!claim || claim.by === me)
    ? ` <span class="offer" data-offer="${esc(fact.id)}">asked of you</span>`
    : ''
  const items = open.map(({ thing, fact, claim }) => `<li class="open" data-fact="${esc(fact.id)}">
    <span><strong>${esc(thing.name)}</strong> in ${esc(thing.area)}: <span class="value">${esc(thing.state.value)}</span>, ${age(fact.time)}${asked(fact, claim)}
      <br><span class="muted">${esc(fact.type)} · ${traceLink(fact.id)}</span>
      ${errors.get(fact.id) ? `<br><span class="error" role="alert">${esc(errors.get(fact.id))}</span>` : ''}</span>
    ${claim
      ? `<span class="claimed">claimed by ${esc(claim.by === me ? `${claim.by} (you)` : claim.by)}</span>`
      : `<button type="button" data-claim="${esc(thing.key)}" data-fact-id="${esc(fact.id)}">I'll do it</button>`}
  </li>`)
  return `<section aria-labelledby="open-h" id="open-facts"><h2 id="open-h">Open facts</h2>
    ${items.length ? `<ul>${items.join('')}</ul>` : '<p class="muted">Nothing open. All quiet.</p>'}</section>`
}

function boardView (live) {
  const things = [...live.things.values()].filter((t) => t.state || t.availability).sort((a, b) => a.key.localeCompare(b.key))
  const areas = [...new Set(things.map((t) => t.area))]
  const body = areas.map((area) => `<h3>${esc(area)}</h3><ul>${things.filter((t) => t.area === area).map((t) => `<li class="thing" data-thing="${esc(t.key)}">
      <span>${esc(t.name)} <span class="${t.availability === 'offline' ? 'offline' : 'muted'}">${esc(t.availability ?? '')}</span></span>
      <span><span class="value">${esc(t.state?.value ?? '?')}</span> ${t.state?.since ? age(t.state.since) : ''}</span></li>`).join('')}</ul>`).join('')
  return `<section aria-labelledby="board-h" id="board"><h2 id="board-h">Board</h2>${body || '<p class="muted">No things yet.</p>'}</section>`
}

function presenceView (live, household) {
  const mine = live.presence.get(household.me)
  const buttons = ['home', 'away', 'busy'].map((p) => `<button type="button" class="ghost" data-presence="${p}" aria-pressed="${mine === p}">${p}</button>`).join('')
  const others = household.members.map((m) => `<li><span>${esc(m.name)}${m.name === household.me ? ' (you)' : ''}</span><span class="value">${esc(live.presence.get(m.name) ?? '?')}</span></li>`).join('')
  return `<section aria-labelledby="presence-h"><h2 id="presence-h">Presence</h2>
    <div class="presence" role="group" aria-label="My presence">${buttons}</div><ul>${others}</ul></section>`
}

function noticesView (live) {
  if (!live.notices.length) return ''
  const items = live.notices.map((n) => `<li><span>${esc(n.type.replace('notification.', ''))}: ${esc(n.data?.message ?? n.data?.detail ?? '')}
    <span class="muted">(${esc(n.data?.channel)})</span></span>${n.data?.about?.id ? traceLink(n.data.about.id) : ''}</li>`).join('')
  return `<section aria-labelledby="notices-h"><h2 id="notices-h">My notifications</h2><ul>${items}</ul></section>`
}

function pushView (push) {
  const label = { on: 'on', off: 'off', blocked: 'blocked in this browser\'s settings', unsupported: 'not supported: no secure context (open the app over HTTPS)', 'no-push': 'not supported by this browser', working: '…' }[push.state] ?? push.state
  return `<section aria-labelledby="push-h"><h2 id="push-h">Notifications on this phone</h2>
    <p>Status: <span id="push-state" data-state="${esc(push.state)}">${esc(label)}</span></p>
    ${push.state === 'off' ? '<button type="button" id="push-on">Notify me on this phone</button>' : ''}
    ${push.state === 'on' ? '<button type="button" class="ghost" id="push-off">Stop notifying this phone</button>' : ''}
    ${push.error ? `<p class="error" role="alert">${esc(push.error)}</p>` : ''}</section>`
}

export function homeView ({ live, facts, household, errors, push }) {
  return openFactsView(openFacts(live, facts, household.actionable), household.me, errors, live.offers) +
    boardView(live) + presenceView(live, household) + noticesView(live) + pushView(push)
}
