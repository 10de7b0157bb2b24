import type { FastifyInstance, FastifyReply } from 'fastify'
import { z } from 'zod'
import { MAX_LIMIT, type Ledger, type LedgerEntry } from './ledger.ts'
import type { UserStore } from './users.ts'
import { canSubscribe } from './acl.ts'
import { Codes, toIssues, topicMatches } from '#contract'

const FactsQuery = z.strictObject({
  after: z.coerce.number().int().nonnegative().default(0).describe('Entries with an offset greater than this'),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(100).describe('At most this many'),
  topic: z.string().min(1).optional().describe('MQTT topic filter, wildcards allowed'),
  follow: z.enum(['true', 'false', '1', '0']).optional().describe('Keep the response open and stream new facts as NDJSON')
})

/** A refusal with the hub's stable code, as every other HTTP API of the hub answers. */
function deny (reply: FastifyReply, status: 401 | 403, message: string): FastifyReply {
  if (status === 401) reply.header('www-authenticate', 'Basic realm="homefacts"')
  return reply.code(status).send({ error: status === 401 ? Codes.BAD_CREDENTIALS : Codes.NOT_AUTHORIZED, message })
}

/**
 * `GET /api/facts?after=&limit=&topic=`: replays the ledger in offset order.
 * With `follow=true` the answer is NDJSON: the backlog, then each new fact as it is accepted.
 */
export function registerLedgerApi (app: FastifyInstance, deps: { ledger: Ledger, users: UserStore }): void {
  // Open follow streams, ended when the server closes so shutdown does not wait on them.
  const following = new Set<() => void>()
  app.addHook('preClose', async () => {
    for (const end of [...following]) end()
  })
  app.get('/api/facts', async (req, reply) => {
    const who = await deps.users.authenticateBasic(req.headers.authorization)
    if (!who) return deny(reply, 401, 'HTTP Basic credentials of a homefacts user are required')
    const q = FactsQuery.safeParse(req.query)
    if (!q.success) {
      return reply.code(400).send({ error: 'bad-request', issues: toIssues(q.error.issues) })
    }
    const filter = q.data.topic ?? '#'
    if (!canSubscribe(who, '', filter)) return deny(reply, 403, `${who.username} may not read "${filter}"`)
    const query = { after: q.data.after, limit: q.data.limit, ...(q.data.topic ? { topic: q.data.topic } : {}) }
    if (q.data.follow !== 'true' && q.data.follow !== '1') {
      const facts = deps.ledger.read(query)
      return { facts, next: facts.at(-1)?.offset ?? q.data.after }
    }
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' })
    res.flushHeaders()
    const line = (e: LedgerEntry): boolean => res.write(JSON.stringify(e) + '\n')
    // Backlog and live tail meet without a gap: appends run on the event loop, never
    // between this synchronous read and the listener being attached.
    let last = q.data.after
    for (;;) {
      const page = deps.ledger.read({ ...query, after: last, limit: MAX_LIMIT })
      for (const e of page) line(e)
      if (page.length < MAX_LIMIT) break
      last = page.at(-1)!.offset
    }
    const onAppend = (e: LedgerEntry): void => {
      if (q.data.topic === undefined || topicMatches(q.data.topic, e.topic)) line(e)
    }
    deps.ledger.on('append', onAppend)
    const end = (): void => {
      deps.ledger.off('append', onAppend)
      following.delete(end)
      res.end()
    }
    following.add(end)
    req.raw.on('close', end)
  })
}
