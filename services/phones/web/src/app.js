// The household web app: log in, then the live board, open facts and claims, presence, traces,
// and Web Push on this phone. The password is never kept: the hub gives an HTTP-only session
// cookie and a short-lived MQTT token, renewed before it expires.
import { api } from './api.js'
import { Live } from './live.js'
import { ago, esc, homeView, loginView } from './view.js'
import { traceView } from './trace.js'
import { Push } from './push.js'

const main = document.getElementById('app')
const who = document.getElementById('who')

let live = null
let household = null
let renewTimer = 0
const facts = new Map()
const pending = new Set()
const errors = new Map()
const push = new Push(() => render())

function fetchFact (id) {
  if (facts.has(id) || pending.has(id)) return
  const seen = live.facts.get(id)
  if (seen) return facts.set(id, seen)
  pending.add(id)
  // The trace, not just the fact: an offer made before this page opened is in it.
  api.trace(id).then((trace) => {
    facts.set(id, trace.fact)
    seedOffer(id, trace.steps)
  }, () => facts.set(id, null)).finally(() => { pending.delete(id); render() })
}

/** An offer to me in a fact's trace that was not withdrawn stands, unless a live one says more. */
function seedOffer (id, steps) {
  const mine = (name) => steps.filter((s) => s.topic === `notify/${household.me}/fact/${name}`)
  const offer = mine('offered').at(-1)
  if (offer && mine('offer-withdrawn').length === 0 && !live.offers.has(id)) live.offers.set(id, offer.fact)
}

let queued = false
function render () {
  if (queued) return
  queued = true
  requestAnimationFrame(() => { queued = false; draw() })
}

async function draw () {
  if (!live) return
  who.innerHTML = `${esc(household.me)} <span class="status" data-status="${esc(live.status)}">${esc(live.status)}</span> <button type="button" class="ghost small" id="logout">Log out</button>`
  const trace = /^#\/trace\/(.+)$/.exec(location.hash)
  if (trace) return
  for (const t of live.things.values()) if (t.state?.factId) fetchFact(t.state.factId)
  main.innerHTML = homeView({ live, facts, household, errors, push })
}

async function showTrace (id) {
  main.innerHTML = '<p class="muted">Loading the trace…</p>'
  try {
    main.innerHTML = traceView(await api.trace(id))
  } catch (err) {
    main.innerHTML = `<p class="error" role="alert">${esc(err.message)}</p><p><a href="#/">← back</a></p>`
  }
}

function route () {
  const trace = /^#\/trace\/(.+)$/.exec(location.hash)
  if (trace && live) showTrace(decodeURIComponent(trace[1]))
  else render()
}

function scheduleRenew (session) {
  clearTimeout(renewTimer)
  const due = Date.parse(session.mqtt.expiresAt) - Date.now()
  renewTimer = setTimeout(async () => {
    try {
      const fresh = await api.session()
      live?.setToken(fresh.mqtt)
      scheduleRenew(fresh)
    } catch (err) {
      if (err.status === 401) return loggedOut('Your session ended; log in again.')
      renewTimer = setTimeout(() => scheduleRenew(session), 5000)
    }
  }, Math.max(1000, Math.min(due * 0.8, due - 30_000)))
}

async function loggedIn (session) {
  household = await api.household()
  live = new Live(session, render)
  live.start()
  scheduleRenew(session)
  push.check()
  route()
}

function loggedOut (error = '') {
  clearTimeout(renewTimer)
  live?.stop()
  live = null
  household = null
  facts.clear()
  who.textContent = ''
  main.innerHTML = loginView({ error })
}

async function claim (key, factId) {
  errors.delete(factId)
  const [area, thing] = key.split('/')
  const body = JSON.stringify({ factId, by: household.me, at: new Date().toISOString() })
  const err = await live.publish(`home/${area}/${thing}/claim`, body)
  if (err) {
    const by = /already claimed by "?([^"]+)"?/.exec(err.message)
    errors.set(factId, by ? `already claimed by ${by[1]}` : err.message.replace(/^Publish error: /, ''))
  }
  render()
}

main.addEventListener('submit', async (e) => {
  if (e.target.id !== 'login') return
  e.preventDefault()
  const form = e.target
  const username = form.username.value.trim()
  const password = form.password.value
  form.password.value = ''
  main.innerHTML = loginView({ busy: true })
  try {
    await loggedIn(await api.login(username, password))
  } catch (err) {
    const message = err.code === 'HF_LOGIN_THROTTLED' ? `too many attempts, try again in ${err.retryAfterSeconds} s` : err.message
    main.innerHTML = loginView({ error: message })
    document.getElementById('username').value = username
  }
})

document.addEventListener('click', async (e) => {
  const b = e.target.closest('button')
  if (!b) return
  if (b.dataset.claim) { b.disabled = true; return claim(b.dataset.claim, b.dataset.factId) }
  if (b.dataset.presence) return live.publish(`household/${household.me}/presence`, b.dataset.presence)
  if (b.id === 'push-on') return push.on()
  if (b.id === 'push-off') return push.off()
  if (b.id === 'logout') { await api.logout().catch(() => {}); await push.forget(); return loggedOut() }
})

window.addEventListener('hashchange', route)
setInterval(() => {
  for (const t of document.querySelectorAll('time.age')) t.textContent = ago(t.getAttribute('datetime'))
}, 1000)

if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {})

api.session().then(loggedIn, () => loggedOut())
