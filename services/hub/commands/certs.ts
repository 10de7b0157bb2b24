import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { ensureCertificates } from '../certs.ts'
import { configFrom, withConfigOptions } from './options.ts'

const collect = (v: string, all: string[]): string[] => [...all, v]

export function register (program: Command): void {
  withConfigOptions(program.command('certs')
    .description('Make (or renew) the local CA and the HTTPS certificate the hub serves to phones')
    .option('--name <dns>', 'another DNS name the hub is reached by (repeatable)', collect, [])
    .option('--ip <address>', 'another address the hub is reached by (repeatable)', collect, [])
    .option('--new-ca', 'replace the CA too (every phone must then trust the new one)'), ['dataDir', 'https.port'])
    .action(async (opts: { name: string[], ip: string[], newCa?: boolean }, cmd: Command) => {
      const config = configFrom(cmd)
      const dir = join(resolve(config.dataDir), 'certs')
      const c = await ensureCertificates(dir, { names: [...opts.name, ...opts.ip], renew: true, newCa: opts.newCa === true })
      process.stdout.write([
        `CA certificate:     ${c.caCert}`,
        `CA fingerprint:     SHA-256 ${c.caFingerprint}`,
        `server certificate: ${c.cert} (for ${c.names.join(', ')})`,
        '',
        `Next: open http://<hub>:${config.http.port}/ca.crt on each phone and trust it (README, "Phones: HTTPS and trusting the hub");`,
        `then use the web app at https://<hub>:${config.https.port}/. A running hub serves the new certificate after a restart.`
      ].join('\n') + '\n')
    })
}
