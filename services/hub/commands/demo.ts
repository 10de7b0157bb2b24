import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import mqtt, { type MqttClient } from 'mqtt'
import { pino } from 'pino'
import { deepFreeze } from '#contract'
import { HubConfig } from '../config.ts'
import { createHub, type Hub } from '../hub.ts'
import { Household } from '../../household/index.ts'
import { timelineLine } from '../../household/timeline.ts'
import { Device } from '../../../devices/device.ts'
import { Button } from '../../../devices/button/button.ts'
import { ThingEntry, toSpec } from '../../../devices/spec.ts'
import { wholeNumber } from './options.ts'

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
      this.#waiters.push({ test, resolve: () => { clearTimeout(timer); resolve() } })
    })
  }

  say (text: string): void {
    process.stdout.write(`\n── ${text}\n`)
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const isFact = (member: string, name: string, test: (f: { data: Record<string, unknown> }) => boolean = () => true) => (m: Seen): boolean =>
  m.topic === `household/${member}/fact/${name}` && test(JSON.parse(m.payload) as { data: Record<string, unknown> })
const isState = (value: string) => (m: Seen): boolean => m.topic === 'home/kitchen/lily-cup/state' && m.payload.includes(`"value":"${value}"`)

/** The demo household: Mummy and Daddy are members by their phone logins; Grandma, away, by config. A faster policy. */
function demoHousehold (pace: typeof PACE.fast): unknown {
  return {
    members: [
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
  // Only what the story needs: no Node-RED, shop, HTTPS or MQTT over TLS to start (and stop).
  const config = deepFreeze(HubConfig.parse({
    dataDir,
    mqtt: { host: '127.0.0.1', port: opts.mqttPort },
    http: { host: '127.0.0.1', port: 0 },
    https: { enabled: false },
    mqtts: { enabled: false },
    nodeRed: { enabled: false },
    shop: { enabled: false },
    log: { level: 'warn' },
    household: demoHousehold(pace)
  }))
  const log = pino({ level: 'warn' })
  const hub = createHub(config, { log, services: [] })
  const clients: MqttClient[] = []
  let device: Device | undefined
  let button: Button | undefined
  let house: Household | undefined
  const tl = new Timeline()
  try {
    await hub.start()
    process.stdout.write(`homefacts demo${opts.fast ? ' (fast)' : ''}: hub on ${hub.urls.mqtt}, data in ${dataDir}\n`)
    // One watcher per kind of topic, as the tests do (see docs/household.md).
    const watcher = await hub.credentials('demo-timeline', { role: 'admin' })
    for (const [i, filter] of ['home/kitchen/lily-cup/fact/+', 'home/kitchen/lily-cup/state', 'home/kitchen/lily-cup/claim', 'household/+/fact/+', 'household/+/presence', 'notify/+/fact/+', 'homefacts/deadletter/#'].entries()) {
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
    /** "I'll do it" on a member's phone: the web app publishes exactly this claim. */
    const claimOnPhone = (member: string, factId: string): Promise<unknown> =>
      phones[member]!.publishAsync('home/kitchen/lily-cup/claim', JSON.stringify({ factId, by: member, at: new Date().toISOString() }), { qos: 1, retain: true })

    // The phone logins made Mummy and Daddy members: the household is read again at once.
    await hub.household.check()
    house = new Household({ household: hub.household.current, mqttUrl: hub.urls.mqtt, credentials: (name, account) => hub.credentials(name, account), log })
    await house.start()
    const buttonUser = { username: 'mummy-button', password: await hub.users.add({ username: 'mummy-button', role: 'device', member: 'mummy', things: ['kitchen/lily-cup'] }) }
    button = new Button({ member: 'mummy', things: ['kitchen/lily-cup'], broker: { url: hub.urls.mqtt, ...buttonUser }, controller: 'SIMULATED', wiring: { pullup: false, invert: false }, holdMs: pace.beatMs, log })
    await button.start()
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

    tl.say(`(1) Lily's cup empties while (2) Daddy is busy chopping chicken: his agent is offline for ${pace.busyMs / 1000} s, his session keeps his facts`)
    await house.responder('daddy').stop()
    const busySince = Date.now()
    const offered = tl.next((m) => m.topic === 'notify/mummy/fact/offered', 'Mummy\'s agent to ask her', 10_000)
    cup.set(0.02)
    await offered
    await sleep(pace.beatMs)

    tl.say('(3) Mummy gets the offer and presses "I\'ll do it" on her button by the sink: the broker accepts her claim')
    const claimed = tl.next((m) => m.topic === 'home/kitchen/lily-cup/claim' && m.payload.includes('"by":"mummy"'), 'Mummy\'s claim', 10_000)
    button.simulate('press')
    await claimed
    await sleep(pace.beatMs)

    tl.say('(4) Mummy refills the cup; the sensor reports full, the hub clears her claim, and her offer is withdrawn')
    const cleared = tl.next((m) => m.topic === 'home/kitchen/lily-cup/claim' && m.payload === '', 'the claim to clear', 10_000)
    cup.set(0.95)
    await cleared
    await sleep(Math.max(0, busySince + pace.busyMs - Date.now()))

    tl.say('(5) Daddy comes back: his agent receives the old fact from his session, checks the cup first and does not bother him')
    const skipped = tl.next(isFact('daddy', 'decided'), 'Daddy to decide', 10_000)
    await house.responder('daddy').start()
    await skipped
    await sleep(pace.beatMs)

    tl.say(`(6) Later, both parents are busy when the cup empties again: nobody is asked and nobody claims, so it escalates (everyone after ${pace.steps[0]} s, Grandma after ${pace.steps[1]} s)`)
    await Promise.all([presence('mummy', 'busy'), presence('daddy', 'busy')])
    const grandma = tl.next(isFact('grandma', 'escalated', (f) => f.data.step === 2), 'the escalation to Grandma', (pace.steps[1]! + 10) * 1000)
    cup.set(0.01)
    await grandma
    const open = JSON.parse(tl.seen.filter(isState('empty')).at(-1)!.payload) as { factId: string }

    tl.say('(7) Mummy sees the notification, taps "I\'ll do it" on her phone, refills the cup and holds her button: done')
    await presence('mummy', 'home')
    const mine = tl.next((m) => m.topic === 'home/kitchen/lily-cup/claim' && m.payload.includes('"by":"mummy"'), 'Mummy\'s claim from her phone', 10_000)
    await claimOnPhone('mummy', open.factId)
    await mine
    const done = tl.next(isState('full'), 'the cup to be done', 10_000)
    button.simulate('long')
    await done
    await sleep(pace.beatMs)
    process.stdout.write(`\nThe whole story is in the ledger${opts.dataDir ? `: homefacts facts tail --data-dir ${dataDir}` : ''}.\n`)
  } finally {
    await button?.stop()
    await house?.stop()
    await device?.stop()
    await Promise.all(clients.map((c) => c.endAsync()))
    await hub.stop()
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true })
  }
}

export function register (program: Command): void {
  program.command('demo')
    .description('Run the hub with a simulated cup and household, and print the story as a timeline')
    .option('--fast', 'tell the story in seconds instead of minutes')
    .option('--data-dir <dir>', 'keep the hub\'s data here (default: a temp folder, removed at the end)')
    .option('--mqtt-port <n>', 'MQTT port of the demo hub (0 picks a free one)', wholeNumber(0, 65535), 0)
    .action(async (opts: { fast?: boolean, dataDir?: string, mqttPort: number }) => {
      await runDemo({ fast: opts.fast === true, mqttPort: opts.mqttPort, ...(opts.dataDir ? { dataDir: opts.dataDir } : {}) })
    })
}
