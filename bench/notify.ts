import { createServer } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { memberFactTopic, memberSubject, presenceTopic, stateTopic, thingFactTopic, thingSubject, type ThingState } from '#contract'
import { makeFact } from '#client'
import { Phones, PhonesConfig } from '../services/phones/index.ts'
import { HouseholdConfig } from '../services/household/index.ts'
import type { Target } from './target.ts'
import { connect, endAll, msSince, nowNs, publishWindowed, type Outgoing } from './load.ts'

const MEMBER = 'bench'

export interface NotifyResult {
  p50: number
  p99: number
  max: number
  count: number
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!

/**
 * `household.escalated` published → notification handed to the channel: the real
 * phones notifier (`services/phones`, MQTT 5, in the bench process) with one webhook channel
 * to a local HTTP receiver. `count` open `cup.empty` facts (with their states) are published
 * first, then one escalation for each at `rate` per second; latency from each publish call to
 * the channel's accepted send (`onSent`).
 */
export async function notifyLatency (b: Target, opts: { rate: number, count: number, warmup: number, tag: string }): Promise<NotifyResult> {
  const receiver = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(204).end()) })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const port = (receiver.address() as { port: number }).port
  const dir = mkdtempSync(join(tmpdir(), 'homefacts-bench-notify-'))
  const sentAt = new Map<string, bigint>()
  const latencies: number[] = []
  const warmup = new Set<string>()
  let handed = 0
  let done: () => void = () => {}
  const all = new Promise<void>((resolve) => { done = resolve })
  const total = opts.warmup + opts.count
  const members = HouseholdConfig.parse({ members: [{ name: MEMBER, phones: [{ kind: 'webhook', address: `http://127.0.0.1:${port}/notify` }] }] })
  const phones = new Phones({
    config: { dataDir: dir, phones: PhonesConfig.parse({ retryAttempts: 1 }) },
    household: { current: members },
    mqttUrl: b.url,
    credentials: async () => b.reader ?? { username: 'bench' },
    log: pino({ level: 'silent' })
  }, {
    onSent: (notice) => {
      const start = sentAt.get(notice.fact.id)
      if (start === undefined) return
      sentAt.delete(notice.fact.id)
      if (!warmup.has(notice.fact.id)) latencies.push(Number(process.hrtime.bigint() - start) / 1e6)
      if (++handed === total) done()
    }
  })
  const device = await connect(b.url, `bench-${opts.tag}-cups`, b.device)
  const household = await connect(b.url, `bench-${opts.tag}-household`, b.reader)
  try {
    await household.publishAsync(presenceTopic(MEMBER), 'home', { qos: 1, retain: true })
    await phones.start()
    const msgs: Outgoing[] = []
    const escalations: { msg: Outgoing, id: string }[] = []
    for (let i = 0; i < total; i++) {
      const subject = thingSubject(opts.tag, `cup-${i}`)
      const fact = makeFact('cup.empty', { subject, source: `devices/${opts.tag}-cup-${i}`, seq: 1, data: { level: 0.02 } })
      const state: ThingState = { value: 'empty', seq: 1, since: fact.time, factId: fact.id }
      msgs.push({ topic: thingFactTopic(opts.tag, `cup-${i}`, 'empty'), payload: Buffer.from(JSON.stringify(fact)) })
      msgs.push({ topic: stateTopic(opts.tag, `cup-${i}`), payload: Buffer.from(JSON.stringify(state)), retain: true })
      const e = makeFact('household.escalated', {
        subject: memberSubject(MEMBER), source: `services/household/${MEMBER}`, seq: i + 1, causationid: fact.id,
        data: { member: MEMBER, factId: fact.id, factType: 'cup.empty', factSeq: 1, subject, step: 1, priority: 'high', due: fact.time, detail: 'nobody claimed it' }
      })
      escalations.push({ msg: { topic: memberFactTopic(MEMBER, 'escalated'), payload: Buffer.from(JSON.stringify(e)) }, id: fact.id })
    }
    await publishWindowed(device, msgs, 32)
    const t0 = nowNs()
    const timer = setTimeout(() => done(), 60_000)
    for (const [i, { msg, id }] of escalations.entries()) {
      // A steady rate: each publish at its slot, measured from the publish call.
      const due = (i * 1000) / opts.rate
      const wait = due - msSince(t0)
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      if (i < opts.warmup) warmup.add(id)
      sentAt.set(id, process.hrtime.bigint())
      household.publish(msg.topic, msg.payload, { qos: 1 })
    }
    await all
    clearTimeout(timer)
    if (handed < total) throw new Error(`notify: ${handed} of ${total} notifications handed over in 60 s`)
    const measured = latencies.sort((a, b) => a - b)
    return { p50: percentile(measured, 0.5), p99: percentile(measured, 0.99), max: measured.at(-1)!, count: measured.length }
  } finally {
    await phones.stop()
    await endAll([device, household])
    await new Promise((resolve) => receiver.close(resolve))
    rmSync(dir, { recursive: true, force: true })
  }
}
