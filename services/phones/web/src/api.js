// The hub's JSON API, same origin; the session is the HTTP-only cookie `hf_session`.

/** An API error with the hub's stable code (`HF_*`) and, when throttled, the wait. */
export class ApiError extends Error {
  constructor (status, body) {
    super(body?.message ?? `HTTP ${status}`)
    this.status = status
    this.code = body?.error ?? `HTTP_${status}`
    this.retryAfterSeconds = body?.retryAfterSeconds
  }
}

async function call (method, path, body) {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await res.text()
  let json = null
  try { json = text ? JSON.parse(text) : null } catch { json = null }
  if (!res.ok) throw new ApiError(res.status, json)
  return json
}

export const api = {
  login: (username, password) => call('POST', '/api/login', { username, password }),
  session: () => call('GET', '/api/session'),
  logout: () => call('POST', '/api/logout'),
  household: () => call('GET', '/api/household'),
  fact: (id) => call('GET', `/api/facts/${encodeURIComponent(id)}`),
  trace: (id) => call('GET', `/api/trace/${encodeURIComponent(id)}`),
  pushKey: () => call('GET', '/api/push/key'),
  addSubscription: (sub) => call('POST', '/api/push/subscriptions', sub),
  removeSubscription: (endpoint) => call('DELETE', '/api/push/subscriptions', { endpoint })
}
