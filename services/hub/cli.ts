import { Command, CommanderError } from 'commander'
import { HomefactsError } from '#contract'
import { commands } from './commands/index.ts'
import pkg from '../../package.json' with { type: 'json' }
import { noMqttNumberCache } from '../../broker/mqtt-numbers.ts'

/** Builds the `homefacts` command tree. Each command is one file in `commands/` plus one line in its index. */
export function program (): Command {
  const root = new Command('homefacts')
    .description('An event-driven home hub: things publish facts, every subscriber decides for itself.')
    .version(pkg.version, '-V, --version', 'print the homefacts version')
    .showHelpAfterError()
    .exitOverride()
  for (const register of commands) register(root)
  return root
}

/** Runs the CLI; a coded error is printed as one clear message and exit code 1, never a stack. */
export async function main (argv: string[]): Promise<void> {
  // Every homefacts process (the hub and the services it starts) speaks MQTT.
  noMqttNumberCache()
  try {
    await program().parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode
      return
    }
    if (err instanceof HomefactsError) {
      process.stderr.write(`homefacts: ${err.message}\n`)
      process.exitCode = 1
      return
    }
    throw err
  }
}
