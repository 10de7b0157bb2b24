import { resolve } from 'node:path'
import { InvalidArgumentError, Option, type Command } from 'commander'
import { Codes, HomefactsError } from '#contract'
import { systemClock } from '../../../devices/clock.ts'
import { CONTROLLER_NAMES } from '../../../devices/cup/controllers.ts'
import { runDevices, type Running } from '../../../devices/runner.ts'
import { keyboard, loadScript, playScript } from '../../../devices/simulate-input.ts'
import { ThingEntry, toSpec, type ThingSpec } from '../../../devices/spec.ts'
import { loadThingsFile, parseThings } from '../../../devices/things-file.ts'
import { createLogger } from '../log.ts'
import { runButton } from './button.ts'
import { stopOnSignals } from './start.ts'

const number = (v: string): number => {
  const n = Number(v)
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number')
  return n
}

interface CommonOptions {
  broker: string
  username?: string
  password?: string
  stateDir: string
  simulate?: boolean
  script?: string
  discovery: boolean
  maxOutbox: number
  logLevel: string
  port?: string
}

/** Options every device command shares: the broker, credentials, state and simulation. */
function withDeviceOptions (cmd: Command): Command {
  return cmd
    .addOption(new Option('-b, --broker <url>', 'MQTT broker URL').env('HOMEFACTS_BROKER').default('mqtt://127.0.0.1:1883'))
    .addOption(new Option('-u, --username <name>', 'device user (see "homefacts users add --role device")').env('HOMEFACTS_DEVICE_USERNAME'))
    .addOption(new Option('-p, --password <password>', 'its password').env('HOMEFACTS_DEVICE_PASSWORD'))
    .addOption(new Option('--port <path>', 'serial port of the Arduino running StandardFirmata, e.g. /dev/ttyACM0').env('HOMEFACTS_DEVICE_PORT'))
    .addOption(new Option('--state-dir <dir>', 'where seq, state and the outbox are kept').default('.homefacts/devices'))
    .option('--simulate', 'no board: read the things from the keyboard (e empties, f fills) or a script')
    .option('--script <file>', 'with --simulate: a JSON timeline of readings instead of the keyboard')
    .option('--no-discovery', 'do not publish Home Assistant discovery')
    .addOption(new Option('--max-outbox <n>', 'messages kept while the broker is away; past it the oldest are dropped').argParser(number).default(1000))
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'))
}

async function run (things: ThingSpec[], port: string | undefined, opts: CommonOptions): Promise<void> {
  if (opts.script && !opts.simulate) throw new HomefactsError(Codes.CONFIG, '--script needs --simulate')
  const script = opts.script ? loadScript(opts.script) : undefined
  const log = createLogger({ log: { level: opts.logLevel as 'info' } }, 'homefacts-device')
  let running: Running | undefined
  let stopInput = (): void => {}
  // Stopped before the broker ever let it in, a device exits 1: its facts are still in the outbox.
  stopOnSignals(async () => {
    stopInput()
    const never = running?.neverConnected() ?? []
    await running?.stop()
    for (const line of never) process.stderr.write(`homefacts: ${line}\n`)
    return never.length > 0 ? 1 : 0
  })
  running = await runDevices({
    things,
    port: opts.port ?? port,
    broker: { url: opts.broker, username: opts.username, password: opts.password },
    stateDir: resolve(opts.stateDir),
    log,
    discovery: opts.discovery,
    maxOutbox: opts.maxOutbox
  })
  if (!opts.simulate) return
  if (script) {
    stopInput = playScript(script, running.devices, systemClock)
    return
  }
  const names = running.devices.map((d, i) => `${i + 1}: ${d.spec.area}/${d.spec.thing}`).join(', ')
  if (process.stdin.isTTY) process.stderr.write(`simulating ${names}\nkeys: e = empty/low, f = full/high${running.devices.length > 1 ? ', 1-9 = select a thing' : ''}, Ctrl-C = stop\n`)
  stopInput = keyboard(process.stdin, running.devices, (line) => process.stderr.write(line + '\n'))
}

export function register (program: Command): void {
  const device = program.command('device').description('Run devices that publish facts: a cup sensor, or the things in a things file')
  withDeviceOptions(device.command('cup'))
    .description('A cup sensor: a force-sensitive resistor (or a switch) under the cup, on an Arduino through johnny-five')
    .requiredOption('-a, --area <area>', 'area of the house, e.g. kitchen')
    .requiredOption('-t, --thing <thing>', 'thing name, e.g. lily-cup')
    .option('--pin <pin>', 'board pin: A0 for FSR, a digital pin number for BUTTON', 'A0')
    .addOption(new Option('--controller <name>', 'how the cup is read').choices(CONTROLLER_NAMES.filter((c) => c !== 'SIMULATED')).default('FSR'))
    .addOption(new Option('--empty-raw <n>', 'FSR: raw reading with the empty cup').argParser(number))
    .addOption(new Option('--full-raw <n>', 'FSR: raw reading with the full cup').argParser(number))
    .addOption(new Option('--empty-below <level>', 'level (0..1) at or below which the cup is empty').argParser(number))
    .addOption(new Option('--full-above <level>', 'level (0..1) at or above which the cup is full').argParser(number))
    .addOption(new Option('--debounce-ms <ms>', 'how long a new reading must hold').argParser(number))
    .option('--name <name>', 'display name in Home Assistant')
    .action(async (opts: CommonOptions & { area: string, thing: string, pin: string, controller: string, emptyRaw?: number, fullRaw?: number, emptyBelow?: number, fullAbove?: number, debounceMs?: number, name?: string }) => {
      const entry = {
        kind: 'cup',
        area: opts.area,
        thing: opts.thing,
        controller: opts.controller,
        pin: opts.controller === 'BUTTON' && opts.pin === 'A0' ? 2 : opts.pin,
        ...(opts.name ? { name: opts.name } : {}),
        ...(opts.emptyRaw !== undefined || opts.fullRaw !== undefined ? { calibration: { empty: opts.emptyRaw ?? 0, full: opts.fullRaw ?? 1023 } } : {}),
        ...(opts.emptyBelow !== undefined || opts.fullAbove !== undefined ? { thresholds: { low: opts.emptyBelow ?? 0.15, high: opts.fullAbove ?? 0.85 } } : {}),
        ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {})
      }
      const r = ThingEntry.safeParse(entry)
      // The flags are one things entry; reuse its checks so errors name the flag's key.
      const spec = r.success ? toSpec(r.data, opts.simulate) : parseThings({ things: [entry] }, 'the device options', opts.simulate).things[0]!
      await run([spec], undefined, opts)
    })
  withDeviceOptions(device.command('button'))
    .description('A physical "I\'ll do it" button for one member: a press claims the open fact of its things, a long press says it is done')
    .requiredOption('-m, --member <name>', 'the household member the button speaks for')
    .requiredOption('-t, --thing <area/thing...>', 'the things it claims, e.g. kitchen/lily-cup (repeat for more)')
    .option('--pin <pin>', 'digital pin of the button', '2')
    .option('--pullup', 'use the internal pull-up: the button connects the pin to ground')
    .option('--invert', 'a normally-closed button')
    .addOption(new Option('--hold-ms <ms>', 'held this long, a press says it is done').argParser(number).default(1000))
    .action(async (opts: CommonOptions & { member: string, thing: string[], pin: string, pullup?: boolean, invert?: boolean, holdMs: number }) => {
      await runButton(opts)
    })
  withDeviceOptions(device.command('run'))
    .description('Run every thing declared in a things file (JSON)')
    .requiredOption('--things <file>', 'the things file')
    .action(async (opts: CommonOptions & { things: string }) => {
      const file = loadThingsFile(opts.things, opts.simulate)
      await run(file.things, file.port, opts)
    })
}
