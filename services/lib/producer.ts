import type { AddressInfo } from 'node:net'
import type { Database } from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { Codes, HomefactsError } from '#contract'
import { openDatabase } from './db.ts'
import { createApi } from './http.ts'
import type { Outbox } from './outbox.ts'
import { Relay } from './relay.ts'

export interface ProducerOptions {
  /** The service name: its MQTT user and client id, and its log name. */
  name: string
  /** Its SQLite file (data and outbox). */
  dbFile: string
  /** The secret the hub's proxy sends with each request (`createApi`). */
  proxySecret: string | undefined
  mqttUrl: string
  credentials: () => Promise<{ username: string, password?: string }>
  /** MQTT protocol of the relay (see `RelayOptions.protocolVersion`). */
  protocolVersion?: 4 | 5
  log: Logger
  host: string
  port: number
  /** The config key of the port, named when it is taken. */
  portKey: string
  /** Builds the service's store on the open database and registers its routes. */
  build: (db: Database) => { outbox: Outbox, routes: (app: FastifyInstance) => void }
}

/**
 * A service that takes requests over HTTP and tells what happened as facts: its own fastify
 * server, its own SQLite file with an outbox, and a relay. Facts wait in the outbox for the broker.
 */
export class HttpProducer {
  readonly outbox: Outbox
  readonly relay: Relay
  readonly app: FastifyInstance
  readonly db: Database
  #opts: ProducerOptions

  constructor (opts: ProducerOptions) {
    this.#opts = opts
    this.db = openDatabase(opts.dbFile)
    const { outbox, routes } = opts.build(this.db)
    this.outbox = outbox
    this.app = createApi(opts.log, opts.proxySecret)
    routes(this.app)
    this.relay = new Relay({ outbox, url: opts.mqttUrl, clientId: opts.name, credentials: opts.credentials, log: opts.log.child({ part: 'relay' }), ...(opts.protocolVersion ? { protocolVersion: opts.protocolVersion } : {}) })
  }

  /** `http://127.0.0.1:<port>` once started. */
  get url (): string {
    return `http://127.0.0.1:${(this.app.server.address() as AddressInfo).port}`
  }

  async start (): Promise<void> {
    const { port, host, portKey } = this.#opts
    await this.app.listen({ port, host }).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EADDRINUSE' ? new HomefactsError(Codes.PORT_IN_USE, `port ${port} on ${host} is already in use (${portKey})`) : err
    })
    await this.relay.start()
    const { pending, failed } = this.outbox.counts()
    this.#opts.log.info({ url: this.url, pending, failed }, `${this.#opts.name} started`)
  }

  async stop (): Promise<void> {
    await this.relay.stop()
    await this.app.close()
    this.db.close()
  }
}
