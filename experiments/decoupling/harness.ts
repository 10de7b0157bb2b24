import { mkdirSync, mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { orderSubject } from '#contract'
import { UserStore } from '../../broker/users.ts'
import { vouched } from './call.ts'
import { Receiver } from './receiver.ts'
import { PASSWORDS, startStep, type Step } from './topology.ts'

export const CONDITIONS = ['normal', 'customers-down', 'notifications-down', 'burst'] as const
export type Condition = (typeof CONDITIONS)[number]

export interface ExperimentConfig {
  /** Orders per run, the same for every step and condition. */
  orders: number
  /** Orders per second, steady. */
  rate: number
  /** The burst condition sends the middle third of the orders this many times faster. */
  burstFactor: number
  /** How long a service is down, and when it goes down (after the first order). */
  outageMs: number
  outageAtMs: number
  /** Customers created before the orders; each order is for one of them. */
  customers: number
  /** A notification this soon after its order was sent counts as "at once" (the customer's wait, not the API's). */
  atOnceMs: number
  /** How long to wait for the last notifications once the last order is answered. */
  drainMs: number
  steps: readonly Step[]
  conditions: readonly Condition[]
  /** Each run gets a fresh folder in here (data, users file, one log per process). */
  workDir: string
  onProgress?: (line: string) => void
}

export const DEFAULTS: Omit<ExperimentConfig, 'workDir'> = Object.freeze({
  orders: 2000, rate: 50, burstFactor: 10, outageMs: 30000, outageAtMs: 5000, customers: 50,
  atOnceMs: 1000, drainMs: 30000, steps: [1, 2, 3] as const, conditions: CONDITIONS
})

/** One line of the table. Times in ms. */
export interface Row {
  step: Step
  condition: Condition
  sent: number
  accepted: number
  atOnce: number
  eventually: number
  lost: number
  duplicated: number
  p50: number
  p99: number
  /** From the last order sent to the last notification received. */
  lastAfterMs: number
}

const quantile = (sorted: number[], q: number): number => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

/** When each order goes out, in ms from the first: steady, or with a 10× burst in the middle third. */
export function schedule (cfg: Pick<ExperimentConfig, 'orders' | 'rate' | 'burstFactor'>, condition: Condition): number[] {
  const gap = 1000 / cfg.rate
  const burst = condition === 'burst' ? [Math.floor(cfg.orders / 3), Math.floor((2 * cfg.orders) / 3)] : [-1, -1]
  const times: number[] = []
  let t = 0
  for (let i = 0; i < cfg.orders; i++) {
    times.push(t)
    t += i >= burst[0]! && i < burst[1]! ? gap / cfg.burstFactor : gap
  }
  return times
}

/** Runs every step under every condition, one after another, and returns the table's rows. */
export async function runExperiment (cfg: ExperimentConfig): Promise<Row[]> {
  mkdirSync(cfg.workDir, { recursive: true })
  const rows: Row[] = []
  for (const step of cfg.steps) {
    for (const condition of cfg.conditions) rows.push(await runOne(cfg, step, condition))
  }
  return rows
}

async function runOne (cfg: ExperimentConfig, step: Step, condition: Condition): Promise<Row> {
  const dir = mkdtempSync(join(cfg.workDir, `step${step}-${condition}-`))
  const usersFile = join(dir, 'users.json')
  await new UserStore(usersFile).addMany([
    { username: 'shop', role: 'shop', password: PASSWORDS.shop },
    { username: 'orders', role: 'orders', password: PASSWORDS.orders },
    { username: 'customers', role: 'customers', password: PASSWORDS.customers },
    { username: 'notifications', role: 'notifications', password: PASSWORDS.notifications },
    { username: 'reader', role: 'service', password: PASSWORDS.reader }
  ])
  const receiver = new Receiver()
  const webhookUrl = `http://127.0.0.1:${await receiver.start()}/sms`
  const topo = await startStep(step, dir, usersFile, webhookUrl)
  const auth = { ...vouched('shop', 'shop'), 'content-type': 'application/json' }
  try {
    const customerIds: string[] = []
    for (let i = 0; i < cfg.customers; i++) {
      const res = await fetch(`http://127.0.0.1:${topo.customersPort}/api/customers`, { method: 'POST', headers: auth, body: JSON.stringify({ name: `Customer ${i}`, phone: `+3161000${String(i).padStart(4, '0')}` }) })
      customerIds.push(((await res.json()) as { id: string }).id)
    }
    // Step 3 learns the profiles from facts; give them a moment, as a shop would have them long before.
    await sleep(500)
    // One warm-up order through the whole chain, not counted: the first HTTP Basic check of each
    // user runs scrypt, and a steady stream would otherwise pile up behind it.
    const warm = await fetch(`http://127.0.0.1:${topo.ordersPort}/api/orders`, { method: 'POST', headers: auth, body: JSON.stringify({ customerId: customerIds[0], lines: [{ sku: 'cup', quantity: 1, unitPrice: 1 }], currency: 'EUR' }) })
    const warmSubject = orderSubject(((await warm.json()) as { id: string }).id)
    for (let i = 0; i < 100 && !receiver.firstAt.has(warmSubject); i++) await sleep(100)

    const times = schedule(cfg, condition)
    /** Accepted orders by subject, with the time each was sent. */
    const acceptedAt = new Map<string, number>()
    const latencies: number[] = []
    let answered = 0
    const start = Date.now()
    const outage = condition === 'customers-down' ? topo.customers : condition === 'notifications-down' ? topo.notifications : null
    let outageDone: Promise<void> = Promise.resolve()
    if (outage) {
      outageDone = (async () => {
        await sleep(cfg.outageAtMs)
        await outage.kill()
        await sleep(cfg.outageMs)
        outage.start()
      })()
    }
    const progress = setInterval(() => cfg.onProgress?.(`step ${step} ${condition.padEnd(18)} t=${((Date.now() - start) / 1000).toFixed(0)}s  sent ${Math.min(times.length, Math.ceil((Date.now() - start) / (1000 / cfg.rate)))}/${times.length}  answered ${answered}  accepted ${acceptedAt.size}  notified ${receiver.firstAt.size}`), 1000)
    // Customers changes one profile a second: step 3 carries it as customer.updated.
    let u = 0
    const updates = setInterval(() => {
      const id = customerIds[u++ % customerIds.length]!
      void fetch(`http://127.0.0.1:${topo.customersPort}/api/customers/${id}`, { method: 'PUT', headers: auth, body: JSON.stringify({ name: `Customer ${id}`, phone: `+3162${String(u).padStart(7, '0')}` }) }).then((r) => r.arrayBuffer(), () => {})
    }, 1000)
    const requests: Promise<void>[] = []
    let lastSentAt = start
    for (let i = 0; i < times.length; i++) {
      const wait = start + times[i]! - Date.now()
      if (wait > 0) await sleep(wait)
      const sentAt = Date.now()
      lastSentAt = sentAt
      const body = JSON.stringify({ customerId: customerIds[i % customerIds.length], lines: [{ sku: 'cup', quantity: 1, unitPrice: 1250 }], currency: 'EUR' })
      requests.push(fetch(`http://127.0.0.1:${topo.ordersPort}/api/orders`, { method: 'POST', headers: auth, body, signal: AbortSignal.timeout(30000) })
        .then(async (res) => {
          const order = await res.json() as { id?: string }
          const now = Date.now()
          latencies.push(now - sentAt)
          if (res.status === 201 && order.id) acceptedAt.set(orderSubject(order.id), sentAt)
        }, () => { latencies.push(Date.now() - sentAt) })
        .finally(() => { answered++ }))
    }
    await Promise.all(requests)
    await outageDone
    clearInterval(updates)
    const drainUntil = Date.now() + cfg.drainMs
    while (Date.now() < drainUntil && [...acceptedAt.keys()].some((s) => !receiver.firstAt.has(s))) await sleep(200)
    // A moment more, so a late duplicate is counted too.
    await sleep(500)
    clearInterval(progress)

    let atOnce = 0
    let eventually = 0
    for (const [s, at] of acceptedAt) {
      const first = receiver.firstAt.get(s)
      if (first === undefined) continue
      eventually++
      if (first - at <= cfg.atOnceMs) atOnce++
    }
    latencies.sort((a, b) => a - b)
    const row: Row = {
      step, condition, sent: times.length, accepted: acceptedAt.size, atOnce, eventually,
      lost: acceptedAt.size - eventually, duplicated: receiver.duplicated,
      p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99),
      lastAfterMs: receiver.lastAt ? Math.max(0, receiver.lastAt - lastSentAt) : NaN
    }
    cfg.onProgress?.(`step ${step} ${condition} done: accepted ${row.accepted}/${row.sent}, notified ${row.eventually}, lost ${row.lost}, duplicated ${row.duplicated}`)
    return row
  } finally {
    await Promise.all(topo.all.map((p) => p.close()))
    await receiver.stop()
  }
}
