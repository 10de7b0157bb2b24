import { createServer, type Server } from 'node:http'
import { Records } from './waiters.ts'

export interface WebhookRequest {
  key: string | null
  body: { event: 'notify' | 'withdraw', fact: { id: string }, [k: string]: unknown }
}

/** A local webhook receiver: keeps each JSON body with its Idempotency-Key. */
export class WebhookReceiver {
  readonly requests: WebhookRequest[] = []
  #records = new Records<WebhookRequest>()
  #server: Server | null = null
  #fail = 0

  get url (): string {
    return `http://127.0.0.1:${(this.#server!.address() as { port: number }).port}/hook`
  }

  async start (): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        if (this.#fail > 0) {
          this.#fail--
          return res.writeHead(503).end()
        }
        const r: WebhookRequest = { key: (req.headers['idempotency-key'] as string | undefined) ?? null, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookRequest['body'] }
        this.requests.push(r)
        this.#records.push(r)
        res.writeHead(204).end()
      })
    })
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve))
  }

  failNext (n: number): void {
    this.#fail = n
  }

  next (test?: (r: WebhookRequest) => boolean, timeoutMs?: number): Promise<WebhookRequest> {
    return this.#records.next(test, timeoutMs)
  }

  /** What a receiver that honours the idempotency key would show: the last event per fact. */
  showing (): WebhookRequest[] {
    const last = new Map<string, WebhookRequest>()
    for (const r of this.requests) last.set(r.body.fact.id, r)
    return [...last.values()].filter((r) => r.body.event === 'notify')
  }

  async close (): Promise<void> {
    this.#server?.closeAllConnections()
    await new Promise((resolve) => this.#server ? this.#server.close(resolve) : resolve(undefined))
  }
}
