/**
 * The latency scenario's load in a process of its own (bench/scenarios.ts, `latency`): forked
 * once per round, it says `ready`, gets its target and options over IPC, says `measuring` when it sends the
 * first measured message (so the bench resets the broker's probe), and reports its raw timings.
 */
import { latencyLoad, type LatencyLoadOptions, type LatencyLoadTarget } from './scenarios.ts'

if (!process.send) throw new Error('bench/latency-load.ts is forked by the bench, with an IPC channel')
const send = (m: unknown): void => { process.send!(m) }
process.once('message', (m: { target: LatencyLoadTarget, opts: LatencyLoadOptions }) => {
  latencyLoad(m.target, m.opts, () => send({ type: 'measuring' })).then(
    (result) => process.send!({ type: 'done', result }, () => process.exit(0)),
    (err: unknown) => { console.error(err); process.exit(1) }
  )
})
send({ type: 'ready' })
