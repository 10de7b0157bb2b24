import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { Codes, HomefactsError } from '#contract'
import { parseEstate } from '../../../estate/config.ts'
import { leaveEstate } from '../../../estate/leave.ts'
import { Secrets } from '../secrets.ts'
import { configFrom, withConfigOptions } from './options.ts'

export function register (program: Command): void {
  const estate = program.command('estate').description('The estate: houses linked by NATS JetStream (docs/estate.md)')
  withConfigOptions(estate.command('leave')
    .description('Take this house out of the estate: its stream, its retained values, its consumers and its site name (run with the hub stopped, then remove the estate section)'), ['dataDir', 'estate.site', 'estate.servers', 'estate.user', 'estate.password', 'estate.follow'])
    .action(async (_opts: unknown, cmd: Command) => {
      const config = configFrom(cmd)
      if (!config.estate) throw new HomefactsError(Codes.CONFIG, 'this house has no estate section (estate.site, estate.servers): it is in no estate')
      const settings = parseEstate(config.estate)
      const house = new Secrets(join(resolve(config.dataDir), 'secrets.json')).get('estate-house-id')?.password
      const left = await leaveEstate(settings, house)
      process.stdout.write([
        `left the estate as "${settings.site}"`,
        `stream ${left.stream ? 'deleted' : 'was not there'}; retained values ${left.bucket ? 'deleted' : 'were not there'}`,
        `consumers deleted: ${left.consumers.join(', ') || 'none'}`,
        `site name ${left.site ? 'released' : 'was not held'}`,
        'this house\'s ledger keeps every fact; remove the estate section from its config before the next start'
      ].join('\n') + '\n')
    })
}
