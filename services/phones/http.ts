import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fastifyStatic from '@fastify/static'
import { z } from 'zod'
import type { Logger } from 'pino'
import type { Ledger, LedgerEntry, MqttTokens, Principal, UserStore } from '../../broker/index.ts'
import { canSubscribe } from '../../broker/acl.ts'
import type { HouseholdConfig } from '../household/config.ts'
import type { PhonesConfig } from './config.ts'
import type { PhoneStore } from './store.ts'
import { LoginThrottle } from '../../broker/throttle.ts'
import { PACKAGE_ROOT } from '../lib/package-root.ts'

/** The built web app (`npm run build`). */
export const WEB_DIST = join(PACKAGE_ROOT, 'services/phones/web/dist/')

const COOKIE = 'hf_session'

export interface PhoneAppDeps {
  config: PhonesConfig
  /** The household now: it changes while the hub runs (issue 29). */
  household: () => HouseholdConfig
  wsPath: string
  users: UserStore
  ledger: Ledger
  tokens: MqttTokens
  /** The store, opened when the hub starts (the routes are registered before). */
  store: () => PhoneStore
  vapidPublicKey: () => string
  log: Logger
}

const Login = z.strictObject({ username: z.string().min(1).max(128), password: z.string().min(1).max(1024) })
const Subscription = z.object({
  endpoint: z.url({ protocol: /^https?$/ }),
  keys: z.object({ p256dh: z.string().min(1), auth: z.string().min(1) })
})

function cookieOf (req: FastifyRequest): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === COOKIE) return v.join('=')
  }
  return undefined
}

const fail = (reply: FastifyReply, status: number, error: string, message: string, extra: Record<string, unknown> = {}): FastifyReply =>
  reply.code(status).send({ error, message, ...extra })

/**
 * The household web app (issue 12) on the hub's HTTP server: the built PWA at `/`, and the
 * JSON API it uses. A login gives an HTTP-only session cookie (kept in `phones.sqlite`, so it
 * survives a restart) and a short-lived MQTT token: the page talks MQTT over WebSocket as the
 * member, so the broker's ACL and claim rules apply to it as to any client.
 */
export function registerPhoneApp (app: FastifyInstance, deps: PhoneAppDeps): void {
  const throttle = new LoginThrottle({ maxFailures: deps.config.maxLoginFailures, windowSeconds: deps.config.loginWindowSeconds })
  const sessionMs = deps.config.sessionDays * 86_400_000

  const sessionBody = (who: Principal) => {
    const { token, expiresAt } = deps.tokens.issue(who.username)
    return { username: who.username, member: who.member, mqtt: { path: deps.wsPath, username: who.username, password: token, expiresAt: expiresAt.toISOString() } }
  }

  /** The member behind the request's session cookie, or `null` (and a 401 sent). */
  const member = (req: FastifyRequest, reply: FastifyReply): Principal | null => {
    const id = cookieOf(req)
    const username = id ? deps.store().sessionUser(id) : undefined
    const user = username ? deps.users.get(username) : undefined
    if (!user || user.role !== 'member' || !user.member) {
      fail(reply, 401, 'HF_NO_SESSION', 'not logged in')
      return null
    }
    const { password: _password, ...who } = user
    return who
  }

  app.post('/api/login', async (req, reply) => {
    const body = Login.safeParse(req.body)
    if (!body.success) return fail(reply, 400, 'HF_BAD_REQUEST', 'expected {"username","password"}')
    const keys = [`user:${body.data.username}`, `addr:${req.ip}`]
    const wait = throttle.retryAfter(keys)
    if (wait > 0) {
      deps.log.warn({ username: body.data.username, address: req.ip, retryAfterSeconds: wait }, 'login throttled')
      return fail(reply.header('retry-after', String(wait)), 429, 'HF_LOGIN_THROTTLED', `too many failed logins; try again in ${wait} s`, { retryAfterSeconds: wait })
    }
    const who = await deps.users.authenticate(body.data.username, body.data.password)
    if (!who) {
      throttle.fail(keys)
      deps.log.warn({ username: body.data.username, address: req.ip }, 'web app login refused: wrong user name or password')
      return fail(reply, 401, 'HF_BAD_LOGIN', 'wrong user name or password')
    }
    throttle.succeed(keys[0]!)
    if (who.role !== 'member' || !who.member) return fail(reply, 403, 'HF_NOT_A_MEMBER', `${who.username} is not a household member; the web app is for members (homefacts users add <name> --role member --member <name>)`)
    const id = deps.store().createSession(who.username, sessionMs)
    const secure = req.protocol === 'https' ? '; Secure' : ''
    reply.header('set-cookie', `${COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(sessionMs / 1000)}${secure}`)
    deps.log.info({ username: who.username }, 'web app login')
    return sessionBody(who)
  })

  app.get('/api/session', async (req, reply) => {
    const who = member(req, reply)
    return who ? sessionBody(who) : reply
  })

  app.post('/api/logout', async (req, reply) => {
    const id = cookieOf(req)
    if (id) deps.store().endSession(id)
    return reply.header('set-cookie', `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`).code(204).send()
  })

  app.get('/api/household', async (req, reply) => {
    const who = member(req, reply)
    if (!who) return reply
    const { members } = deps.household()
    return {
      me: who.member,
      members: members.map((m) => ({ name: m.name, role: m.role })),
      actionable: [...new Set(members.flatMap((m) => m.respondsTo))]
    }
  })

  /** A ledger entry as the page sees it, when the member may read its topic. */
  const visible = (who: Principal, e: LedgerEntry | null | undefined) =>
    e && canSubscribe(who, '', e.topic) ? { offset: e.offset, topic: e.topic, receivedAt: e.receivedAt, fact: e.fact } : null

  app.get<{ Params: { id: string } }>('/api/facts/:id', async (req, reply) => {
    const who = member(req, reply)
    if (!who) return reply
    const entry = visible(who, deps.ledger.byId(req.params.id))
    return entry ?? fail(reply, 404, 'HF_NOT_FOUND', `no fact ${req.params.id} in the ledger`)
  })

  app.get<{ Params: { id: string } }>('/api/trace/:id', async (req, reply) => {
    const who = member(req, reply)
    if (!who) return reply
    const story = deps.ledger.story(req.params.id)
    const fact = visible(who, story?.fact)
    if (!story || !fact) return fail(reply, 404, 'HF_NOT_FOUND', `no fact ${req.params.id} in the ledger`)
    return { fact, steps: story.steps.map((s) => visible(who, s)).filter((s) => s !== null), resolution: visible(who, story.resolution) }
  })

  app.get('/api/push/key', async (req, reply) => {
    if (!member(req, reply)) return reply
    return { publicKey: deps.vapidPublicKey() }
  })

  app.post('/api/push/subscriptions', async (req, reply) => {
    const who = member(req, reply)
    if (!who) return reply
    const sub = Subscription.safeParse(req.body)
    if (!sub.success) return fail(reply, 400, 'HF_BAD_REQUEST', 'expected a PushSubscription: {"endpoint","keys":{"p256dh","auth"}}')
    deps.store().addSubscription(who.member!, { endpoint: sub.data.endpoint, keys: { p256dh: sub.data.keys.p256dh, auth: sub.data.keys.auth } })
    deps.log.info({ member: who.member }, 'push subscription added')
    return reply.code(201).send({ ok: true })
  })

  app.delete('/api/push/subscriptions', async (req, reply) => {
    const who = member(req, reply)
    if (!who) return reply
    const endpoint = z.object({ endpoint: z.string().min(1) }).safeParse(req.body)
    if (!endpoint.success) return fail(reply, 400, 'HF_BAD_REQUEST', 'expected {"endpoint"}')
    deps.store().removeSubscription(endpoint.data.endpoint, who.member!)
    return reply.code(204).send()
  })

  if (!existsSync(WEB_DIST)) {
    deps.log.warn(`the web app is not built (${WEB_DIST} is missing): run "npm run build"`)
    app.get('/', async (_req, reply) => fail(reply, 503, 'HF_NOT_BUILT', 'the web app is not built: run "npm run build"'))
    return
  }
  app.register(fastifyStatic, {
    root: WEB_DIST,
    // The service worker and the shell must never be stale: a phone would keep an old app.
    setHeaders: (res, path) => {
      if (path.endsWith('sw.js') || path.endsWith('.html') || path.endsWith('.webmanifest')) res.setHeader('cache-control', 'no-cache')
      if (path.endsWith('sw.js')) res.setHeader('service-worker-allowed', '/')
    }
  })
}
