import { createServer, type IncomingMessage, type Server } from 'node:http'
import { Records } from './waiters.ts'

/** One request a phone's ntfy server got, as the receiver understood it. */
export interface NtfyRequest {
  method: 'POST' | 'PUT' | 'DELETE'
  topic: string
  sequenceId: string | null
  title: string | null
  message: string
  priority: number
  tags: string[]
  click: string | null
  authorization: string | null
}

/**
 * A local HTTP server that speaks ntfy's publish API as its docs describe it for 2.16+
 * (https://docs.ntfy.sh/publish/): publish with POST or PUT to `/<topic>` or
 * `/<topic>/<sequence_id>` (or the `X-Sequence-ID` header), with the title, priority, tags and
 * click action in `X-*` headers and the message as the body; a publish with a sequence id that
 * is already showing updates it in place; `DELETE /<topic>/<sequence_id>` removes it, and
 * `PUT /<topic>/<sequence_id>/clear` dismisses it. `showing(topic)` is what a subscribed phone
 * shows now. Anything else answers 400 and is kept in `errors`.
 */
export class NtfyReceiver {
  readonly requests: NtfyRequest[] = []
  readonly errors: string[] = []
  #records = new Records<NtfyRequest>()
  #showing = new Map<string, Map<string, NtfyRequest>>()
  #server: Server | null = null
  #fail = 0
  #token: string | undefined
  #ids = 0

  constructor (opts: { token?: string } = {}) {
    this.#token = opts.token
  }

  get url (): string {
    return `http://127.0.0.1:${(this.#server!.address() as { port: number }).port}`
  }

  async start (): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const answer = this.#handle(req, Buffer.concat(chunks).toString('utf8'))
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body))
      })
    })
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve))
  }

  /** The next `n` requests answer 500, as a server having trouble would. */
  failNext (n: number): void {
    this.#fail = n
  }

  next (test?: (r: NtfyRequest) => boolean, timeoutMs?: number): Promise<NtfyRequest> {
    return this.#records.next(test, timeoutMs)
  }

  /** The notifications a phone subscribed to `topic` shows now: one per sequence id, latest content. */
  showing (topic: string): NtfyRequest[] {
    return [...(this.#showing.get(topic)?.values() ?? [])]
  }

  #handle (req: IncomingMessage, body: string): { status: number, body: unknown } {
    const header = (name: string): string | null => (req.headers[name] as string | undefined) ?? null
    if (this.#token && header('authorization') !== `Bearer ${this.#token}`) return { status: 401, body: { code: 40101, http: 401, error: 'unauthorized' } }
    if (this.#fail > 0) {
      this.#fail--
      return { status: 500, body: { code: 50001, http: 500, error: 'internal server error' } }
    }
    const parts = (req.url ?? '/').split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent)
    const method = req.method as NtfyRequest['method']
    const bad = (why: string): { status: number, body: unknown } => {
      this.errors.push(`${req.method} ${req.url}: ${why}`)
      return { status: 400, body: { code: 40001, http: 400, error: why } }
    }
    const topic = parts[0]
    if (!topic || !/^[-_A-Za-z0-9]{1,64}$/.test(topic)) return bad('invalid topic')
    const clear = parts[2] === 'clear' || parts[2] === 'read'
    if (parts.length > (clear ? 3 : 2)) return bad('unknown path')
    const sequenceId = parts[1] ?? header('x-sequence-id') ?? header('sid')
    const r: NtfyRequest = {
      method,
      topic,
      sequenceId,
      title: header('x-title') ?? header('title'),
      message: body,
      priority: Number(header('x-priority') ?? header('priority') ?? 3),
      tags: (header('x-tags') ?? header('tags') ?? '').split(',').filter(Boolean),
      click: header('x-click') ?? header('click'),
      authorization: header('authorization')
    }
    const shown = this.#showing.get(topic) ?? new Map<string, NtfyRequest>()
    this.#showing.set(topic, shown)
    if (method === 'DELETE' || (method === 'PUT' && clear)) {
      if (!sequenceId) return bad('a delete or clear needs a sequence id')
      shown.delete(sequenceId)
    } else if (method === 'POST' || method === 'PUT') {
      if (!Number.isInteger(r.priority) || r.priority < 1 || r.priority > 5) return bad('priority must be 1..5')
      const id = `m${++this.#ids}`
      shown.set(sequenceId ?? id, r)
    } else {
      return bad(`method ${req.method} not allowed`)
    }
    this.requests.push(r)
    this.#records.push(r)
    const event = method === 'DELETE' ? 'message_delete' : clear ? 'message_clear' : 'message'
    return { status: 200, body: { id: `m${this.#ids}`, time: Math.floor(Date.now() / 1000), event, topic, message: r.message, title: r.title ?? undefined, priority: r.priority, tags: r.tags, click: r.click ?? undefined, sequence_id: sequenceId ?? undefined } }
  }

  async close (): Promise<void> {
    this.#server?.closeAllConnections()
    await new Promise((resolve) => this.#server ? this.#server.close(resolve) : resolve(undefined))
  }
}
