import type { Command } from 'commander'
import { Codes, HomefactsError } from '#contract'
import { createHub, type Hub } from '../hub.ts'
import { loadConfig } from '../config.ts'
import { howToChange, sourcesFrom, withConfigOptions } from './options.ts'

/** Stops on SIGINT/SIGTERM, exiting with the code `stop` resolves to (0 by default); a second signal exits at once. */
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
    process.stdout.write(firstSteps(hub))
  } catch (err) {
    if (err instanceof HomefactsError && err.code === Codes.PORT_IN_USE) {
      const key = (err as HomefactsError & { key: string }).key
      throw new HomefactsError(Codes.PORT_IN_USE, `${err.message}; choose another port with ${howToChange(key)}`)
    }
    throw err
  }
}

/** What the web app's addresses are from elsewhere on the network, with the hub's host as it binds. */
const reachable = (url: string, host: string): string => host === '0.0.0.0' || host === '::' ? url.replace('127.0.0.1', '<this host>') : url.replace('127.0.0.1', host)

/** The first lines a person reads: where the web app is, and the next step (a member login, then the app). */
export function firstSteps (hub: Hub): string {
  const { http, https } = hub.urls
  const web = [`  ${reachable(http, hub.config.http.host)}/`, ...(https ? [`  ${reachable(https, hub.config.https.host)}/  (phones: Web Push and installing the app need HTTPS; trust the hub's CA from ${reachable(http, hub.config.http.host)}/ca.crt)`] : [])]
  const members = hub.household.current.members.map((m) => m.name)
  const next = members.length === 0
    ? 'Next: add a member, then open the web app and log in as them:\n  homefacts users add <name> --role member --member <name>'
    : `Household members: ${members.join(', ')}. Add another with: homefacts users add <name> --role member --member <name>`
  return `\nThe household web app:\n${web.join('\n')}\n${next}\n\n`
}

export function register (program: Command): void {
  withConfigOptions(program.command('start').description('Run the hub: broker, ledger, HTTP API and services'))
    .action(async (_opts, cmd: Command) => {
      const sources = sourcesFrom(cmd)
      // The sources go with the config: edits to the household section apply while the hub runs.
      const hub = createHub(loadConfig(sources), { configSources: sources })
      stopOnSignals(() => hub.stop())
      await startHub(hub)
    })
}
