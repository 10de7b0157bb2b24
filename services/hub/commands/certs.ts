import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { configFrom, withConfigOptions } from './options.ts'

export function register (program: Command): void {
  withConfigOptions(program.command('certs')
    .description('Issue a new HTTPS certificate for the hub from its local CA (made on first use), for phones')
    .option('--name <dns...>', 'more DNS names the hub is reached by')
    .option('--ip <address...>', 'more IP addresses the hub is reached by')
    .option('--new-ca', 'replace the CA too (every phone must then trust the new one)'), ['dataDir', 'http.port', 'https.port'])
    .action(async (opts: { name?: string[], ip?: string[], newCa?: boolean }, cmd: Command) => {
      const config = configFrom(cmd)
      const dir = join(resolve(config.dataDir), 'certs')
      const { regenerateCertificates } = await import('../certs.ts')
      const c = await regenerateCertificates(dir, { names: opts.name ?? [], addresses: opts.ip ?? [], newCa: opts.newCa === true })
      process.stdout.write([
        `certificates in ${c.dir}`,
        `CA: ${c.caCert} (${c.issued.ca ? 'new: every phone must trust it' : 'kept'})`,
        `CA SHA-256 fingerprint: ${c.caFingerprint}`,
        `server certificate: ${c.cert}, key ${c.key}`,
        `names: ${c.names.join(', ')}`,
        `next: open http://<hub>:${config.http.port}/ca.crt on the phone, then see docs/https.md, "Trusting the hub on a phone";`,
        `the web app is then at https://<hub>:${config.https.port}/ (a running hub serves the new certificate after a restart)`
      ].join('\n') + '\n')
    })
}
