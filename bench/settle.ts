/**
 * How a broker settles into a steady 500/s: the 1 → 1 scenario's p99 (and max) in each 5 s of a
 * 30 s load, first on a fresh broker, then again right after the bench's fan-ins (its warm-up,
 * 3 rounds at QoS 1, 3 at QoS 0). The hub on facts, as `npm start` runs it, and Mosquitto on
 * plain topics when it is installed: the load runs in a new process each time, as in the bench,
 * so what Mosquitto shows in its first seconds is the load's own warm-up, and what the hub shows
 * beyond that is its own. These first seconds are what the bench's warm-up leaves out.
 * `node --import tsx bench/settle.ts [seconds]`
 */
import { HubProcess } from './hub-process.ts'
import { findMosquitto, MosquittoProcess } from './mosquitto.ts'
import { FAN_IN, FAN_IN_WARMUP, fanIn, latencyLoadProcess, percentile, type LatencyLoadResult } from './scenarios.ts'
import type { Broker, Target } from './target.ts'

const seconds = Number(process.argv[2] ?? 30)
const RATE = 500
const WINDOW_S = 5

/** p99/max of the end-to-end latency (ms) in each window of the run, from its first message. */
function windows (r: LatencyLoadResult): string {
  const per = RATE * WINDOW_S
  const out: string[] = []
  for (let k = 0; k < r.sentAt.length; k += per) {
    const s = Array.from(r.gotAt.subarray(k, k + per), (g, i) => g - r.sentAt[k + i]!).sort((a, b) => a - b)
    out.push(`${k / RATE}–${(k + s.length) / RATE} s: ${percentile(s, 99).toFixed(2)} / ${s[s.length - 1]!.toFixed(1)}`)
  }
  return out.join(' | ')
}

async function settle (t: Target): Promise<void> {
  const load = (tag: string): Promise<LatencyLoadResult> => latencyLoadProcess(t, { rate: RATE, count: seconds * RATE, warmup: 0, tag }, () => {})
  console.log(`${t.column}, fresh, p99 / max per ${WINDOW_S} s (ms): ${windows(await load('settle-fresh'))}`)
  await fanIn(t, { ...FAN_IN_WARMUP, tag: 'settle-w' })
  for (const [r, qos] of ([1, 1, 1, 0, 0, 0] as const).entries()) await fanIn(t, { ...FAN_IN, qos, tag: `settle-q${qos}r${r}` })
  const held = t.broker instanceof HubProcess ? ` (${t.broker.ledgerOffset().toLocaleString('en-US')} facts in the ledger)` : ''
  console.log(`${t.column}, after the fan-ins${held}, p99 / max per ${WINDOW_S} s (ms): ${windows(await load('settle-after'))}`)
}

const brokers: Broker[] = []
try {
  const bin = findMosquitto()
  if (bin) {
    const m = await MosquittoProcess.start(bin)
    brokers.push(m)
    await settle({ column: 'Mosquitto', broker: m, url: m.url, prefix: 'plain/' })
  } else console.log('Mosquitto is not installed: its rows are left out (`apt-get install -y mosquitto`).')
  const hub = await HubProcess.start()
  brokers.push(hub)
  await settle(hub.target('homefacts, facts', 'facts'))
} finally {
  await Promise.all(brokers.map((b) => b.stop()))
}
