import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { InvalidArgumentError, type Command } from 'commander'
import mqtt, { type MqttClient } from 'mqtt'
import { pino } from 'pino'
import { loadConfig } from '../config.ts'
import { createHub, type Hub } from '../hub.ts'
import { Household } from '../../household/index.ts'
import { timelineLine } from '../../household/timeline.ts'
import { Device } from '../../../devices/device.ts'
import { ThingEntry, toSpec } from '../../../devices/spec.ts'

/** How long things take: `--fast` tells the same story in seconds. */
const PACE = {
  real: { busyMs: 30_000, steps: [60, 300], debounceMs: 500, beatMs: 3000 },
  fast: { busyMs: 3000, steps: [2, 4], debounceMs: 100, beatMs: 600 }
}

interface Seen { topic: string, payload: string }

/** Every message of the story, printed as a timeline line as it arrives; the story awaits them. */
class Timeline {
  readonly seen: Seen[] = []
  readonly #t0 = Date.now()
  #waiters: { test: (m: Seen) => boolean, resolve: () => void }[] = []

  add (m: Seen): void {
    this.seen.push(m)
    const line = timelineLine(m.topic, m.payload, Date.now() - this.#t0)
    if (line) process.stdout.write(line + '\n')
    this.#waiters = this.#waiters.filter((w) => !(w.test(m) && (w.resolve(), true)))
  }

  /** Resolves at the first message (from now on) that matches; fails after `ms`. */
  next (test: (m: Seen) => boolean, what: string, ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`demo: waited ${ms} ms for ${what}`)), ms)
      this.#waits(test, () => { clearTimeout(timer); resolve() })
    })
  }

  #waits (test: (m: Seen) => boolean, resolve: () => void): void {
    this.#waiters.push({ test, resolve })
  }

  say (text: string): void {
    process.stdout.write(`\n── ${text}\n`)
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const isFact = (member: string, name: string, test: (f: { data: Record<string, unknown> }) => boolean = () => true) => (m: Seen): boolean =>
  m.topic === `household/${member}/fact/${name}` && test(JSON.parse(m.payload) as { data: Record<string, unknown> })
const isState = (value: string) => (m: Seen): boolean => m.topic === 'home/kitchen/lily-cup/state' && m.payload.includes(`"value":"${value}"`)

/** The demo household: two parents at home, a grandparent away, the cup.empty escalation policy. */
function demoHousehold (pace: typeof PACE.fast): unknown {
  return {
    members: [
      { name: 'mummy', role: 'parent' },
      { name: 'daddy', role: 'parent' },
      { name: 'grandma', role: 'grandparent', presence: 'away' }
    ],
    policies: {
      'cup.empty': {
        mayClaim: [],
        escalation: [
          { afterSeconds: pace.steps[0], notify: {}, priority: 'high' },
          { afterSeconds: pace.steps[1], notify: { roles: ['grandparent'] }, priority: 'high' }
        ]
      }
    },
    evidenceTimeoutMs: 2000
  }
}

async function connectAs (hub: Hub, user: { username: string, password: string }, clientId: string): Promise<MqttClient> {
  return await mqtt.connectAsync(hub.urls.mqtt, { ...user, clientId, protocolVersion: 5, reconnectPeriod: 1000 })
}

/** Runs the story of Lily's cup on a real hub, a simulated cup and simulated members. */
export async function runDemo (opts: { fast: boolean, dataDir?: string, mqttPort: number }): Promise<void> {
  const pace = opts.fast ? PACE.fast : PACE.real
  const dataDir = opts.dataDir ? resolve(opts.dataDir) : mkdtempSync(join(tmpdir(), 'homefacts-demo-'))
  mkdirSync(dataDir, { recursive: true })
  const configFile = join(dataDir, 'demo.config.json')
  writeFileSync(configFile, JSON.stringify({ dataDir, mqtt: { host: '127.0.0.1', port: opts.mqttPort }, http: { host: '127.0.0.1', port: 0 }, https: { host: '127.0.0.1', port: 0 }, mqtts: { host: '127.0.0.1', port: 0 }, log: { level: 'warn' }, household: demoHousehold(pace) }, null, 2) + '\n')
  const config = loadConfig({ file: configFile, env: {} })
  const log = pino({ level: 'warn' })
  const hub = createHub(config, { log, services: [] })
  const clients: MqttClient[] = []
  let device: Device | undefined
  let house: Household | undefined
  const tl = new Timeline()
  try {
    await hub.start()
    process.stdout.write(`homefacts demo${opts.fast ? ' (fast)' : ''}: hub on ${hub.urls.mqtt}, data in ${dataDir}\n`)
    // One watcher per kind of topic, as the tests do (see docs/household.md).
    const watcher = await hub.credentials('demo-timeline', { role: 'admin' })
    for (const [i, filter] of ['home/kitchen/lily-cup/fact/+', 'home/kitchen/lily-cup/state', 'home/kitchen/lily-cup/claim', 'household/+/fact/+', 'household/+/presence', 'homefacts/deadletter/#'].entries()) {
      const c = await connectAs(hub, watcher, `demo-timeline-${i}`)
      c.on('message', (topic, payload) => tl.add({ topic, payload: payload.toString() }))
      await c.subscribeAsync(filter, { qos: 1, rh: 2 })
      clients.push(c)
    }
    const phones: Record<string, MqttClient> = {}
    for (const member of ['mummy', 'daddy', 'grandma']) {
      const password = await hub.users.add({ username: `${member}-phone`, role: 'member', member, password: `demo-${member}` })
      phones[member] = await connectAs(hub, { username: `${member}-phone`, password }, `${member}-phone`)
      clients.push(phones[member])
    }
    const presence = (member: string, value: string): Promise<unknown> => phones[member]!.publishAsync(`household/${member}/presence`, value, { qos: 1, retain: true })

    house = new Household({ household: config.household, mqttUrl: hub.urls.mqtt, credentials: (name, account) => hub.credentials(name, account), log })
    await house.start()
    const cupUser = { username: 'lily-cup', password: await hub.users.add({ username: 'lily-cup', role: 'device', things: ['kitchen/lily-cup'] }) }
    const spec = toSpec(ThingEntry.parse({ kind: 'cup', area: 'kitchen', thing: 'lily-cup', name: "Lily's cup", controller: 'SIMULATED', debounceMs: pace.debounceMs }))
    device = new Device({ spec, broker: { url: hub.urls.mqtt, ...cupUser }, stateDir: ':memory:', log, discovery: false, clientId: 'lily-cup' })
    device.start()
    const cup = device.source

    tl.say('Morning in the kitchen. Mummy and Daddy are home, Grandma is away; Lily\'s cup is full.')
    await Promise.all([presence('mummy', 'home'), presence('daddy', 'home'), presence('grandma', 'away')])
    const full = tl.next(isState('full'), 'the cup to report full', 10_000)
    cup.set(0.95)
    await full

    tl.say(`(1) Lily's cup empties while (2) Daddy is busy chopping chicken: his responder is offline for ${pace.busyMs / 1000} s, his session keeps his facts`)
    await house.responder('daddy').stop()
    const busySince = Date.now()
    const claimed = tl.next(isFact('mummy', 'decided', (f) => f.data.decision === 'claim'), 'Mummy to claim', 10_000)
    cup.set(0.02)
    await claimed
    await sleep(pace.beatMs)

    tl.say('(3) Mummy refills the cup; the sensor reports full, and the hub clears her claim')
    const cleared = tl.next((m) => m.topic === 'home/kitchen/lily-cup/claim' && m.payload === '', 'the claim to clear', 10_000)
    cup.set(0.95)
    await cleared
    await sleep(Math.max(0, busySince + pace.busyMs - Date.now()))

    tl.say('(4) Daddy comes back: he receives the old fact from his session and checks the cup first')
    const skipped = tl.next(isFact('daddy', 'decided'), 'Daddy to decide', 10_000)
    await house.responder('daddy').start()
    await skipped
    await sleep(pace.beatMs)

    tl.say(`(5) Later, both parents are busy when the cup empties again: nobody claims, so it escalates (everyone after ${pace.steps[0]} s, Grandma after ${pace.steps[1]} s)`)
    await Promise.all([presence('mummy', 'busy'), presence('daddy', 'busy')])
    const grandma = tl.next(isFact('grandma', 'escalated', (f) => f.data.step === 2), 'the escalation to Grandma', (pace.steps[1]! + 10) * 1000)
    cup.set(0.01)
    await grandma

    tl.say('Mummy sees the notification, finishes up and refills the cup; nothing more escalates')
    await presence('mummy', 'home')
    const refilled = tl.next(isState('full'), 'the refill', 10_000)
    cup.set(0.95)
    await refilled
    await sleep(pace.beatMs)
    process.stdout.write(`\nThe whole story is in the ledger${opts.dataDir ? `: homefacts facts tail --data-dir ${dataDir}` : ''}.\n`)
  } finally {
    await house?.stop()
    await device?.stop()
    await Promise.all(clients.map((c) => c.endAsync()))
    await hub.stop()
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true })
  }
}

const port = (v: string): number => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port from 0 to 65535')
  return n
}

export function register (program: Command): void {
  program.command('demo')
    .description('Run the hub with a simulated cup and household, and print the story as a timeline')
    .option('--fast', 'tell the story in seconds instead of minutes')
    .option('--data-dir <dir>', 'keep the hub\'s data here (default: a temp folder, removed at the end)')
    .option('--mqtt-port <n>', 'MQTT port of the demo hub (0 picks a free one)', port, 0)
    .action(async (opts: { fast?: boolean, dataDir?: string, mqttPort: number }) => {
      await runDemo({ fast: opts.fast === true, mqttPort: opts.mqttPort, ...(opts.dataDir ? { dataDir: opts.dataDir } : {}) })
    })
}
