import type { Command } from 'commander'
import { exportContract } from '../contract-export.ts'

export function register (program: Command): void {
  program.command('contract').description('The fact contract')
    .command('export')
    .description('Write an AsyncAPI 3 document and JSON Schemas generated from the zod contract')
    .option('-o, --out <dir>', 'output folder', 'contract-export')
    .action((opts: { out: string }) => {
      const files = exportContract(opts.out)
      process.stdout.write(files.map((f) => `wrote ${f}`).join('\n') + '\n')
    })
}
