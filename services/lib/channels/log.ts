import type { Logger } from 'pino'
import type { Channel, Notice } from './channel.ts'

/** Writes each notice to the log: the channel that always works, for a hub with nothing else set up. */
export class LogChannel implements Channel {
  readonly name = 'log'
  readonly address = 'log'
  #log: Logger
  constructor (log: Logger) { this.#log = log }

  async send (notice: Notice): Promise<void> {
    this.#log.info({ to: notice.to?.phone ?? notice.to?.email ?? notice.recipient, recipient: notice.recipient, factId: notice.fact.id }, notice.message)
  }

  async withdraw (notice: Notice, reason: string): Promise<void> {
    this.#log.info({ recipient: notice.recipient, factId: notice.fact.id }, `withdrawn: ${reason}`)
  }
}
