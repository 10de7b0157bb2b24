import type { Command } from 'commander'
import { Codes, HomefactsError } from '#contract'
import { createHub, type Hub } from '../hub.ts'
import { configFrom, howToChange, withConfigOptions } from './options.ts'

/**
 * Stops on SIGINT/SIGTERM and exits with the code `stop` resolves to (0 by default); a second
 * signal exits at once.
 */
export function stopOnSignals (stop: () => Promise<number | void>): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130)
    stopping = true
    stop().then((code) => process.exit(code ?? 0), (err: unknown) => {
      process.stderr.write(`homefacts: stop failed after ${signal}: ${String(err)}\n`)
      process.exit(1)
    })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}

/** Starts a hub, turning a taken port into a message that names the flag to change it. */
export async function startHub (hub: Hub): Promise<void> {
  try {
    const info = await hub.start()
    if (info.firstRunAdmin) {
      process.stdout.write(`\nFirst run: created the admin account.\n  user:     ${info.firstRunAdmin.username}\n  password: ${info.firstRunAdmin.password}\n  (kept in ${hub.secrets.path}; add users with "homefacts users add")\n\n`)
    }
    hub.log.info(hub.urls, 'hub started')
  } catch (err) {
    if (err instanceof HomefactsError && err.code === Codes.PORT_IN_USE) {
      const key = (err as HomefactsError & { key: string }).key
      throw new HomefactsError(Codes.PORT_IN_USE, `${err.message}; choose another port with ${howToChange(key)}`)
    }
    throw err
  }
}

export function register (program: Command): void {
  withConfigOptions(program.command('start').description('Run the hub: broker, ledger, HTTP API and services'))
    .action(async (_opts, cmd: Command) => {
      const hub = createHub(configFrom(cmd))
      stopOnSignals(() => hub.stop())
      await startHub(hub)
    })
}
