import { pino, type Logger } from 'pino'
import type { HubConfig } from './config.ts'

/** Structured JSON logs (pino); pretty-printed when stdout is a terminal unless `log.pretty` says otherwise. */
export function createLogger (config: Pick<HubConfig, 'log'>, name = 'homefacts'): Logger {
  const pretty = config.log.pretty ?? process.stdout.isTTY === true
  return pino({
    name,
    level: config.log.level,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname' } } } : {})
  })
}
