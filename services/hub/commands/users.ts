import { resolve } from 'node:path'
import { Option, type Command } from 'commander'
import { UserStore, Role } from '../../../broker/index.ts'
import { dataFiles } from '../hub.ts'
import { configFrom, withConfigOptions } from './options.ts'

const storeFrom = (cmd: Command): UserStore => new UserStore(dataFiles(resolve(configFrom(cmd).dataDir)).users)

export function register (program: Command): void {
  const users = program.command('users').description('Manage the users file (scrypt-hashed); a running hub picks changes up')
  withConfigOptions(users.command('add <username>'), ['dataDir'])
    .description('Add a user, or replace one with the same name; prints the password')
    .addOption(new Option('-r, --role <role>', 'what the user may do').choices(Role.options).makeOptionMandatory())
    .option('-t, --thing <area/thing...>', 'device: a thing it may write (repeatable; "+" matches any)')
    .option('-m, --member <name>', 'member: the household member this login speaks for')
    .option('-p, --password <password>', 'the password (default: a generated one)')
    .action(async (username: string, opts: { role: Role, thing?: string[], member?: string, password?: string }, cmd: Command) => {
      const { role } = opts
      const password = await storeFrom(cmd).add({
        username,
        role,
        ...(opts.thing ? { things: opts.thing } : {}),
        ...(opts.member ? { member: opts.member } : {}),
        ...(opts.password ? { password: opts.password } : {})
      })
      process.stdout.write(`added ${role} "${username}"${opts.password ? '' : `, password: ${password}`}\n`)
    })
  withConfigOptions(users.command('remove <username>'), ['dataDir'])
    .description('Remove a user')
    .action(async (username: string, _opts, cmd: Command) => {
      await storeFrom(cmd).remove(username)
      process.stdout.write(`removed "${username}"\n`)
    })
  withConfigOptions(users.command('list'), ['dataDir'])
    .description('List users and roles (never passwords)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const list = storeFrom(cmd).list()
      if (opts.json) return void process.stdout.write(JSON.stringify(list, null, 2) + '\n')
      for (const u of list) {
        // A button is a device with both: its things and the member it claims for.
        const scope = `${u.things ? ` things=${u.things.join(',')}` : ''}${u.member ? ` member=${u.member}` : ''}`
        process.stdout.write(`${u.username}\t${u.role}${scope}\n`)
      }
    })
}
