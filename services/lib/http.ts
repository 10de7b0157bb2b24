import { createHash, timingSafeEqual } from 'node:crypto'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { z } from 'zod'
import { Codes, HomefactsError, toIssues, type Code } from '#contract'

/** Who may change shop data over HTTP: shop clerks and admins. */
export const WRITE_ROLES: readonly string[] = ['admin', 'shop']
/** Who may read it: those, and services. */
export const READ_ROLES: readonly string[] = ['admin', 'shop', 'service']

/** The headers the hub's proxy adds to a request it forwards: who is calling, and the secret that proves it came through it. */
export const PROXY_HEADERS = { secret: 'x-homefacts-proxy-secret', user: 'x-homefacts-user', role: 'x-homefacts-role' } as const

/** Who is calling, as the hub's proxy vouches. */
export interface Caller {
  username: string
  role: string
}

const STATUS: Partial<Record<Code, number>> = {
  [Codes.BODY]: 400,
  [Codes.DATA]: 400,
  [Codes.NOT_FOUND]: 404,
  [Codes.STATE_CONFLICT]: 409,
  [Codes.BAD_CREDENTIALS]: 401,
  [Codes.NOT_AUTHORIZED]: 403
}

/** Throws `HF_NOT_AUTHORIZED` (403) unless the caller the hub vouched for has one of `roles`. */
export function authorize (req: FastifyRequest, roles: readonly string[]): Caller {
  const who = { username: String(req.headers[PROXY_HEADERS.user]), role: String(req.headers[PROXY_HEADERS.role]) }
  if (!roles.includes(who.role)) throw new HomefactsError(Codes.NOT_AUTHORIZED, `role "${who.role}" may not do this; one of: ${roles.join(', ')}`)
  return who
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/** Validates a body at the edge; a bad one is `HF_BODY` with the failing fields (400). */
export function parseBody<S extends z.ZodType> (schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body ?? {})
  if (!r.success) throw new HomefactsError(Codes.BODY, 'invalid request body', toIssues(r.error.issues))
  return r.data
}

/**
 * A service's own fastify server: it answers only requests that carry `proxySecret` (given none,
 * none). Coded errors become `{error, message, issues}` with their code's status.
 */
export function createApi (log: Logger, proxySecret: string | undefined): FastifyInstance {
  const app = Fastify({ loggerInstance: log.child({ part: 'http' }, { level: 'warn' }) as FastifyBaseLogger, forceCloseConnections: true })
  const expected = proxySecret ? digest(proxySecret) : undefined
  app.addHook('onRequest', async (req) => {
    const given = req.headers[PROXY_HEADERS.secret]
    if (expected && typeof given === 'string' && timingSafeEqual(digest(given), expected) && typeof req.headers[PROXY_HEADERS.user] === 'string') return
    throw new HomefactsError(Codes.BAD_CREDENTIALS, expected
      ? 'this API answers requests the homefacts hub forwards: call it through the hub, with HTTP Basic credentials of a homefacts user'
      : 'this API has no proxy secret (HOMEFACTS_PROXY_SECRET), so it answers no request: run it under the hub, or give it the secret your proxy sends')
  })
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply: FastifyReply) => {
    if (err instanceof HomefactsError) {
      const status = STATUS[err.code] ?? 500
      if (status === 401) reply.header('www-authenticate', 'Basic realm="homefacts"')
      return reply.code(status).send({ error: err.code, message: err.message, issues: err.issues })
    }
    // fastify's own client errors (a body that is not JSON, say) keep their 4xx status.
    if (err.statusCode && err.statusCode < 500) return reply.code(err.statusCode).send({ error: Codes.BODY, message: err.message, issues: [] })
    log.error({ err }, 'request failed')
    return reply.code(500).send({ error: 'internal', message: 'internal error', issues: [] })
  })
  return app
}
