import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

/** Kept-alive connections per receiver: a household sends a few notices a minute, in bursts. */
const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 8 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 8 }) }

export interface ChannelResponse {
  status: number
  body: string
}

/** One HTTP request on a kept-alive connection; rejects on a network error, the timeout or a non-2xx answer (with `status`). */
export function request (url: string, init: { method: string, headers?: Record<string, string>, body?: string, timeoutMs: number }): Promise<ChannelResponse> {
  const u = new URL(url)
  const secure = u.protocol === 'https:'
  const body = init.body === undefined ? undefined : Buffer.from(init.body)
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(u, {
      method: init.method,
      headers: { ...init.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      agent: secure ? agents.https : agents.http,
      timeout: init.timeoutMs
    }, (res: IncomingMessage) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const status = res.statusCode ?? 0
        const text = Buffer.concat(chunks).toString('utf8')
        if (status >= 200 && status < 300) return resolve({ status, body: text })
        reject(Object.assign(new Error(`${init.method} ${url} answered ${status}${text ? `: ${text.slice(0, 200)}` : ''}`), { status }))
      })
    })
    req.on('timeout', () => req.destroy(new Error(`${init.method} ${url}: no answer in ${init.timeoutMs} ms`)))
    req.on('error', reject)
    req.end(body)
  })
}
