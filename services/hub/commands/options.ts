import { InvalidArgumentError, Option, type Command } from 'commander'
import { configKeys, loadConfig, type ConfigSources, type HubConfig } from '../config.ts'

/** Adds `--config` and a flag for every scalar config key (`--mqtt-port`, `--data-dir`, ...). */
export function withConfigOptions (cmd: Command, only?: string[]): Command {
  cmd.option('-c, --config <file>', 'JSON config file (default: ./homefacts.config.json when present)')
  for (const k of configKeys()) {
    if (only && !only.includes(k.key)) continue
    const flag = k.kind === 'boolean' ? `${k.flag} [bool]` : `${k.flag} <${k.kind === 'number' ? 'n' : 'value'}>`
    cmd.addOption(new Option(flag, `${k.description} (${k.env}${k.default !== undefined ? `, default ${JSON.stringify(k.default)}` : ''})`))
  }
  return cmd
}

/** Where the command's config comes from: `--config`, the environment and the flags it was given. */
export function sourcesFrom (cmd: Command): ConfigSources {
  const opts = cmd.opts<Record<string, unknown>>()
  const flags: Record<string, unknown> = {}
  for (const k of configKeys()) {
    const name = k.flag.slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())
    const v = opts[name]
    if (v !== undefined) flags[k.key] = v === true ? 'true' : v
  }
  return { ...(typeof opts.config === 'string' ? { file: opts.config } : {}), env: process.env, flags }
}

/** The config from `--config`, the environment and the flags the command was given. */
export function configFrom (cmd: Command): HubConfig {
  return loadConfig(sourcesFrom(cmd))
}

/** The flag and variable that change a config key, for error messages. */
export function howToChange (key: string): string {
  const k = configKeys().find((x) => x.key === key)
  return k ? `${k.flag} or ${k.env}` : key
}

/** A flag's parser for a whole number from `min` to `max`. */
export const wholeNumber = (min: number, max = Infinity) => (v: string): number => {
  const n = Number(v)
  const range = max === Infinity ? `of ${min} or more` : `from ${min} to ${max}`
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number ${range}`)
  return n
}
