import { request } from 'node:http'
import type { FastifyInstance } from 'fastify'

/** Where a path prefix is served: a service's own HTTP server (`http://127.0.0.1:<port>`). */
export type ProxyTargets = Map<string, string>

/**
 * Forwards `/api/<prefix>...` to the service that serves it (issue 10: Orders and Customers
 * listen on their own ports, and a user still meets one address). Bodies and answers are piped
 * through untouched, so the service does its own auth and validation. A prefix nobody serves
 * now is a 404; a service that does not answer is a 502.
 */
export function registerProxy (app: FastifyInstance): ProxyTargets {
  const targets: ProxyTargets = new Map()
  void app.register(async (scope) => {
    // Leave the body unread, to pipe it on as it came.
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null))
    scope.all('/api/*', async (req, reply) => {
      const path = req.url.split('?')[0]!
      const prefix = [...targets.keys()].find((p) => path === p || path.startsWith(`${p}/`))
      if (!prefix) return reply.code(404).send({ error: 'not-found', message: `no API at ${path}` })
      reply.hijack()
      const upstream = request(targets.get(prefix)! + req.url, { method: req.method, headers: req.headers }, (res) => {
        reply.raw.writeHead(res.statusCode ?? 502, res.headers)
        res.pipe(reply.raw)
      })
      upstream.on('error', (err) => {
        if (!reply.raw.headersSent) reply.raw.writeHead(502, { 'content-type': 'application/json' })
        reply.raw.end(JSON.stringify({ error: 'bad-gateway', message: `${prefix} did not answer: ${err.message}` }))
      })
      req.raw.pipe(upstream)
    })
  })
  return targets
}
