import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifyRateLimit from '@fastify/rate-limit'
import fastifyStatic from '@fastify/static'
import { z } from 'zod'
import type { Logger } from 'pino'
import type { PhonesConfig, PhonesHousehold } from './config.ts'
import type { PhoneStore } from './store.ts'
import { PACKAGE_ROOT } from '../lib/package-root.ts'

/** The built web app (`npm run build`). */
export const WEB_DIST = join(PACKAGE_ROOT, 'services/phones/web/dist/')

const COOKIE = 'hf_session'

/** A hub user, as the web app sees one. */
export interface PhoneUser {
  username: string
  role: string
  member?: string | undefined
}

/** A fact in the hub's ledger. */
export interface LedgerFact {
  offset: number
  topic: string
  receivedAt: string
  fact: unknown
}

/** What only the hub can give the web app: its users, MQTT tokens and ledger. */
export interface PhonesHub {
  /** The user with this name and password, or null. */
  authenticate: (username: string, password: string) => Promise<PhoneUser | null>
  user: (username: string) => PhoneUser | undefined
  /** A short-lived MQTT password for the user, over WebSocket at `wsPath`. */
  mqttToken: (username: string) => { token: string, expiresAt: Date }
  wsPath: string
  /**
   * A fact in the ledger with its story (the facts that followed from it, the one that
   * resolved it), as far as `who` may read them (the broker's ACL); undefined when there is no
   * such fact or it is not theirs to read.
   */
  story: (who: PhoneUser, id: string) => { fact: LedgerFact, steps: LedgerFact[], resolution: LedgerFact | null } | undefined
}

export interface PhoneAppDeps {
  config: PhonesConfig
  /** The household now: it changes while the hub runs. */
  household: () => PhonesHousehold
  hub: PhonesHub
  /** The store, opened when the phones start (the routes are registered before). */
  store: () => PhoneStore
  vapidPublicKey: () => string
  log: Logger
}

const Login = z.strictObject({ username: z.string().min(1).max(128), password: z.string().min(1).max(1024) })
const Subscription = z.object({
  endpoint: z.url({ protocol: /^https?$/ }),
  keys: z.object({ p256dh: z.string().min(1), auth: z.string().min(1) })
})

const fail = (reply: FastifyReply, status: number, error: string, message: string, extra: Record<string, unknown> = {}): FastifyReply =>
  reply.code(status).send({ error, message, ...extra })

/**
 * The household web app on the hub's HTTP server: the built PWA at `/`, and the
 * JSON API it uses. A login gives an HTTP-only session cookie (kept in `phones.sqlite`, so it
 * survives a restart) and a short-lived MQTT token: the page talks MQTT over WebSocket as the
 * member, so the broker's ACL and claim rules apply to it as to any client.
 */
export async function registerPhoneApp (app: FastifyInstance, deps: PhoneAppDeps): Promise<void> {
  const { hub } = deps
  const sessionMs = deps.config.sessionDays * 86_400_000
  await app.register(fastifyCookie)
  await app.register(fastifyRateLimit, { global: false })

  const sessionBody = (who: PhoneUser) => {
    const { token, expiresAt } = hub.mqttToken(who.username)
    return { username: who.username, member: who.member, mqtt: { path: hub.wsPath, username: who.username, password: token, expiresAt: expiresAt.toISOString() } }
  }

  /** The member behind the request's session cookie, or `null` (and a 401 sent). */
  const member = (req: FastifyRequest, reply: FastifyReply): PhoneUser | null => {
    const id = req.cookies[COOKIE]
    const username = id ? deps.store().sessionUser(id) : undefined
    const user = username ? hub.user(username) : undefined
    if (!user || user.role !== 'member' || !user.member) {
      fail(reply, 401, 'HF_NO_SESSION', 'not logged in')
      return null
    }
    return { username: user.username, role: user.role, member: user.member }
  }

  const windowMs = deps.config.loginWindowSeconds * 1000
  app.post('/api/login', {
    config: {
      // At most maxLoginFailures attempts per user name in the window, the right password or not.
      rateLimit: {
        max: deps.config.maxLoginFailures,
        timeWindow: windowMs,
        hook: 'preHandler',
        keyGenerator: (req) => `user:${(req.body as { username?: unknown } | undefined)?.username ?? req.ip}`,
        onExceeded: (req) => deps.log.warn({ username: (req.body as { username?: unknown } | undefined)?.username, address: req.ip }, 'login throttled'),
        errorResponseBuilder: (_req, ctx) => {
          const seconds = Math.ceil(ctx.ttl / 1000)
          return { statusCode: 429, error: 'HF_LOGIN_THROTTLED', message: `too many logins; try again in ${seconds} s`, retryAfterSeconds: seconds }
        }
      }
    }
  }, async (req, reply) => {
    const body = Login.safeParse(req.body)
    if (!body.success) return fail(reply, 400, 'HF_BAD_REQUEST', 'expected {"username","password"}')
    const who = await hub.authenticate(body.data.username, body.data.password)
    if (!who) {
      deps.log.warn({ username: body.data.username, address: req.ip }, 'web app login refused: wrong user name or password')
      return fail(reply, 401, 'HF_BAD_LOGIN', 'wrong user name or password')
    }
    if (who.role !== 'member' || !who.member) return fail(reply, 403, 'HF_NOT_A_MEMBER', `${who.username} is not a household member; the web app is for members (homefacts users add <name> --role member --member <name>)`)
    const id = deps.store().createSession(who.username, sessionMs)
    reply.setCookie(COOKIE, id, { httpOnly: true, sameSite: 'strict', path: '/', maxAge: Math.floor(sessionMs / 1000), secure: req.protocol === 'https' })
    deps.log.info({ username: who.username }, 'web app login')
    return sessionBody(who)
  })

  app.get('/api/session', async (req, reply) => {
    const who = member(req, reply)
    return who ? sessionBody(who) : reply
  })

  app.post('/api/logout', async (req, reply) => {
    const id = req.cookies[COOKIE]
    if (id) deps.store().endSession(id)
    return reply.clearCookie(COOKIE, { httpOnly: true, sameSite: 'strict', path: '/' }).code(204).send()
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

  app.get<{ Params: { id: string } }>('/api/facts/:id', async (req, reply) => {
    const who = member(req, reply)
    if (!who) return reply
    return hub.story(who, req.params.id)?.fact ?? fail(reply, 404, 'HF_NOT_FOUND', `no fact ${req.params.id} in the ledger`)
  })

  app.get<{ Params: { id: string } }>('/api/trace/:id', async (req, reply) => {
    const who = member(req, reply)
    if (!who) return reply
    return hub.story(who, req.params.id) ?? fail(reply, 404, 'HF_NOT_FOUND', `no fact ${req.params.id} in the ledger`)
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
  await app.register(fastifyStatic, {
    root: WEB_DIST,
    // The service worker and the shell must never be stale: a phone would keep an old app.
    setHeaders: (res, path) => {
      if (path.endsWith('sw.js') || path.endsWith('.html') || path.endsWith('.webmanifest')) res.setHeader('cache-control', 'no-cache')
      if (path.endsWith('sw.js')) res.setHeader('service-worker-allowed', '/')
    }
  })
}
