import { createServer, type Server } from 'node:http'

/**
 * The local webhook receiver that counts notifications: by the order they tell of (the fact's
 * subject, `shop/orders/<id>`) for delivered and lost, and by `Idempotency-Key` for duplicates.
 */
export class Receiver {
  /** First delivery time (ms since epoch) by order subject. */
  readonly firstAt = new Map<string, number>()
  readonly #keys = new Map<string, number>()
  deliveries = 0
  lastAt = 0
  #server: Server | null = null

  get duplicated (): number {
    let n = 0
    for (const c of this.#keys.values()) n += c - 1
    return n
  }

  async start (): Promise<number> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString()) as { fact?: { subject?: string } }
          const subject = body.fact?.subject
          const key = String(req.headers['idempotency-key'] ?? '')
          const now = Date.now()
          this.deliveries++
          this.lastAt = now
          this.#keys.set(key, (this.#keys.get(key) ?? 0) + 1)
          if (subject && !this.firstAt.has(subject)) this.firstAt.set(subject, now)
          res.writeHead(200).end()
        } catch {
          res.writeHead(400).end()
        }
      })
    })
    this.#server = server
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const addr = server.address()
    return typeof addr === 'object' && addr ? addr.port : 0
  }

  async stop (): Promise<void> {
    const s = this.#server
    if (!s) return
    s.closeAllConnections()
    await new Promise((resolve) => s.close(resolve))
  }
}
