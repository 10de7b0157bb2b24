import { createRequire } from 'node:module'
import { pino, type Logger } from 'pino'
import type PinoPretty from 'pino-pretty'
import type { HubConfig } from './config.ts'

/**
 * Structured JSON logs (pino); pretty-printed when stdout is a terminal unless `log.pretty` says
 * otherwise. pino-pretty is loaded only then, and runs as a stream on this thread, not as a
 * transport on a thread of its own (which costs a V8 heap).
 */
export function createLogger (config: Pick<HubConfig, 'log'>, name = 'homefacts'): Logger {
  const pretty = config.log.pretty ?? process.stdout.isTTY === true
  if (!pretty) return pino({ name, level: config.log.level })
  const prettyStream = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty
  return pino({ name, level: config.log.level }, prettyStream({ colorize: true, ignore: 'pid,hostname', sync: true }))
}
