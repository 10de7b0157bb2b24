import type { Command } from 'commander'
import * as start from './start.ts'
import * as users from './users.ts'
import * as facts from './facts.ts'
import * as contract from './contract.ts'
import * as device from './device.ts'
import * as simulate from './simulate.ts'
import * as demo from './demo.ts'
import * as service from './service.ts'
import * as certs from './certs.ts'
import * as estate from './estate.ts'

/** Every `homefacts` subcommand. A new command is one file in this folder plus one line here. */
export const commands: ((program: Command) => void)[] = [
  start.register,
  users.register,
  facts.register,
  contract.register,
  device.register,
  simulate.register,
  demo.register,
  service.register,
  certs.register,
  estate.register
]
