import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Option, type Command } from 'commander'
import { Codes, HomefactsError } from '#contract'
import { Fleet, type FleetMember } from '../../../devices/fleet.ts'
import { UserStore } from '../../../broker/users.ts'
import { dataFiles } from '../hub.ts'
import { createLogger } from '../log.ts'
import { writeSecretFile } from '../secrets.ts'
import { configFrom, wholeNumber, withConfigOptions } from './options.ts'

/** The fleet's logins: `sim-<n>` may write `home/sim/thing-<n>/...`. */
const member = (i: number, password: string): FleetMember => ({ username: `sim-${i}`, password, area: 'sim', thing: `thing-${i}` })

/** Makes sure the first `count` fleet logins exist; their passwords are cached, so a rerun needs no scrypt. */
async function fleetMembers (dataDir: string, count: number, say: (line: string) => void): Promise<FleetMember[]> {
  const cachePath = join(dataDir, 'simulate-credentials.json')
  const cache = existsSync(cachePath) ? JSON.parse(readFileSync(cachePath, 'utf8')) as Record<string, string> : {}
  const store = new UserStore(dataFiles(dataDir).users)
  const known = new Set(store.list().map((u) => u.username))
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !cache[`sim-${i}`] || !known.has(`sim-${i}`))
  if (missing.length > 0) {
    say(`creating ${missing.length} device logins (scrypt, about ${Math.max(1, Math.round(missing.length * 0.08))} s); they are cached in ${cachePath}, so the next run starts at once`)
    const t0 = Date.now()
    const passwords = await store.addMany(missing.map((i) => ({ username: `sim-${i}`, role: 'device' as const, things: [`sim/thing-${i}`] })))
    missing.forEach((i, k) => { cache[`sim-${i}`] = passwords[k]! })
    writeSecretFile(cachePath, cache)
    say(`created ${missing.length} device logins in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  }
  return Array.from({ length: count }, (_, i) => member(i, cache[`sim-${i}`]!))
}

export function register (program: Command): void {
  withConfigOptions(program.command('simulate'), ['dataDir'])
    .description('Fleet simulator: many simulated cups, each with its own device login, for demos and load')
    .addOption(new Option('--things <n>', 'how many simulated things').argParser(wholeNumber(1, 100_000)).default(100))
    .addOption(new Option('--rate <n>', 'state changes per second across the fleet').argParser(wholeNumber(1, 1_000_000)).default(10))
    .addOption(new Option('--duration <seconds>', 'stop by itself after this long').argParser(wholeNumber(1, 86_400)).default(60))
    .addOption(new Option('-b, --broker <url>', 'MQTT broker URL').env('HOMEFACTS_BROKER').default('mqtt://127.0.0.1:1883'))
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error', 'silent']).default('warn'))
    .action(async (opts: { things: number, rate: number, duration: number, broker: string, logLevel: string }, cmd: Command) => {
      const dataDir = resolve(configFrom(cmd).dataDir)
      if (!existsSync(dataDir)) throw new HomefactsError(Codes.CONFIG, `no hub data in ${dataDir}: start the hub first, or pass its --data-dir`)
      const say = (line: string): void => void process.stderr.write(line + '\n')
      const members = await fleetMembers(dataDir, opts.things, say)
      const fleet = new Fleet({ url: opts.broker, members, rate: opts.rate, durationMs: opts.duration * 1000, log: createLogger({ log: { level: opts.logLevel as 'warn' } }, 'homefacts-simulate') })
      let signals = 0
      const onSignal = (): void => {
        if (++signals > 1) process.exit(130)
        say('stopping the fleet...')
        fleet.stop()
      }
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
      say(`connecting ${opts.things} things to ${opts.broker}, then ${opts.rate} changes/s for ${opts.duration} s (Ctrl-C stops)`)
      const s = await fleet.run()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      say(`${s.things} things connected in ${(s.connectMs / 1000).toFixed(1)} s; ${s.recorded} changes in ${(s.runMs / 1000).toFixed(1)} s (${s.ratePerSecond}/s); ${s.pending} messages unsent at the end`)
    })
}
