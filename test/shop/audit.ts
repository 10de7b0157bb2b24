import { appendFileSync } from 'node:fs'
import mqtt, { type MqttClient } from 'mqtt'

/**
 * A consumer nobody planned for: appends every shop fact to a file, one JSON line each. It
 * needs nothing from Orders but the facts on the broker, which is the point of the test.
 */
export class AuditLog {
  #client: MqttClient | null = null
  #lines = 0
  #waiters: { n: number, resolve: () => void }[] = []

  constructor (readonly file: string, readonly url: string, readonly creds: { username: string, password: string }) {}

  async start (): Promise<void> {
    const client = await mqtt.connectAsync(this.url, { clientId: 'audit-log', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 }, reconnectPeriod: 0, ...this.creds })
    this.#client = client
    client.on('message', (topic, payload) => {
      if (!topic.includes('/fact/')) return
      appendFileSync(this.file, JSON.stringify({ topic, fact: JSON.parse(payload.toString()) as unknown }) + '\n')
      this.#lines++
      this.#waiters = this.#waiters.filter((w) => { if (this.#lines < w.n) return true; w.resolve(); return false })
    })
    await client.subscribeAsync('shop/#', { qos: 1 })
  }

  until (n: number): Promise<void> {
    if (this.#lines >= n) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push({ n, resolve }))
  }

  async stop (): Promise<void> {
    await this.#client?.endAsync()
  }
}
