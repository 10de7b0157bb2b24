// One process of the experiment: `node --import tsx proc.ts <role> '<json options>'`.
import { runBroker } from './broker.ts'
import { runNotifications1, runOrders1 } from './step1.ts'
import { runNotifications2 } from './step2.ts'

const [role, json = '{}'] = process.argv.slice(2)
const o = JSON.parse(json) as never
process.on('SIGTERM', () => process.exit(0))
switch (role) {
  case 'broker': { const b = o as { dataDir: string, port: number, usersFile: string }; await runBroker(b.dataDir, b.port, b.usersFile); break }
  case 'orders1': await runOrders1(o); break
  case 'notifications1': await runNotifications1(o); break
  case 'notifications2': await runNotifications2(o); break
  default: throw new Error(`unknown role ${role}`)
}
