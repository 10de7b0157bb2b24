import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { z } from 'zod'
import { Codes, HomefactsError, toIssues, type Code } from '#contract'
import type { Principal, Role, UserStore } from '../../broker/users.ts'

/** Who may change shop data over HTTP (issue 10): shop clerks and admins. */
export const WRITE_ROLES: readonly Role[] = ['admin', 'shop']
/** Who may read it: those, and services. */
export const READ_ROLES: readonly Role[] = ['admin', 'shop', 'service']

const STATUS: Partial<Record<Code, number>> = {
  [Codes.BODY]: 400,
  [Codes.DATA]: 400,
  [Codes.NOT_FOUND]: 404,
  [Codes.STATE_CONFLICT]: 409,
  [Codes.BAD_CREDENTIALS]: 401,
  [Codes.NOT_AUTHORIZED]: 403
}

/** Throws `HF_BAD_CREDENTIALS` (401) or `HF_NOT_AUTHORIZED` (403) unless the caller has one of `roles`. */
export async function authorize (users: UserStore, req: FastifyRequest, roles: readonly Role[]): Promise<Principal> {
  const who = await users.authenticateBasic(req.headers.authorization)
  if (!who) throw new HomefactsError(Codes.BAD_CREDENTIALS, 'HTTP Basic credentials of a homefacts user are required')
  if (!roles.includes(who.role)) throw new HomefactsError(Codes.NOT_AUTHORIZED, `role "${who.role}" may not do this; one of: ${roles.join(', ')}`)
  return who
}

/** Validates a body at the edge; a bad one is `HF_BODY` with the failing fields (400). */
export function parseBody<S extends z.ZodType> (schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body ?? {})
  if (!r.success) throw new HomefactsError(Codes.BODY, 'invalid request body', toIssues(r.error.issues))
  return r.data
}

/**
 * A service's own fastify server. Coded errors become `{error, message, issues}` with the
 * status their code stands for; anything else is a 500 and logged.
 */
export function createApi (log: Logger): FastifyInstance {
  const app = Fastify({ loggerInstance: log.child({ part: 'http' }, { level: 'warn' }) as FastifyBaseLogger, forceCloseConnections: true })
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
