import type { FastifyInstance } from 'fastify'
import { Codes } from '#contract'
import type { UserStore } from '../../broker/index.ts'
import { PROXY_HEADERS } from '../lib/http.ts'

/** Where a path prefix is served: a service's own HTTP server (`http://127.0.0.1:<port>`). */
export type ProxyTargets = Map<string, string>

export interface ProxyOptions {
  users: UserStore
  /** The secret the hub shares with the services it starts. */
  secret: () => string
}

/**
 * Forwards `/api/<prefix>...` to the shop service that serves it on its own port, so a user meets
 * one address. The caller's HTTP Basic credentials are checked here, against the hub's users; the
 * service learns who is calling from the headers the proxy sets, and trusts them for the secret
 * they share. Bodies and answers pass through untouched.
 */
export function registerProxy (app: FastifyInstance, opts: ProxyOptions): ProxyTargets {
  const targets: ProxyTargets = new Map()
  void app.register(async (scope) => {
    // Loaded here, once HTTP is being set up: the other commands, and the broker's first CONNACK, do not wait for it.
    await scope.register((await import('@fastify/reply-from')).default)
    // Leave the body unread, to stream it on as it came.
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload))
    scope.all('/api/*', async (req, reply) => {
      const path = req.url.split('?')[0]!
      const prefix = [...targets.keys()].find((p) => path === p || path.startsWith(`${p}/`))
      if (!prefix) return reply.code(404).send({ error: 'not-found', message: `no API at ${path}` })
      const who = await opts.users.authenticateBasic(req.headers.authorization)
      if (!who) {
        return reply.code(401).header('www-authenticate', 'Basic realm="homefacts"')
          .send({ error: Codes.BAD_CREDENTIALS, message: 'HTTP Basic credentials of a homefacts user are required', issues: [] })
      }
      return reply.from(targets.get(prefix)! + req.url, {
        rewriteRequestHeaders: (_req, headers) => {
          const { authorization: _authorization, ...rest } = headers
          return { ...rest, [PROXY_HEADERS.secret]: opts.secret(), [PROXY_HEADERS.user]: who.username, [PROXY_HEADERS.role]: who.role }
        },
        onError: (res, { error }) => {
          res.code(502).send({ error: 'bad-gateway', message: `${prefix} did not answer: ${error.message}` })
        }
      })
    })
  })
  return targets
}
