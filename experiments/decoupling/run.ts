// `npm run experiment:decoupling [-- --orders 2000 --rate 50 --outage-ms 30000 ...]`: steps 1, 2, 3
// under four conditions, one run after another; prints the table (experiments/decoupling/README.md).
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CONDITIONS, DEFAULTS, runExperiment, type Condition } from './harness.ts'
import { formatTable } from './table.ts'
import type { Step } from './topology.ts'

const { values } = parseArgs({
  options: {
    orders: { type: 'string' }, rate: { type: 'string' }, 'burst-factor': { type: 'string' },
    'outage-ms': { type: 'string' }, 'outage-at-ms': { type: 'string' }, customers: { type: 'string' },
    'drain-ms': { type: 'string' }, steps: { type: 'string' }, conditions: { type: 'string' }, 'work-dir': { type: 'string' }
  }
})
const num = (v: string | undefined, d: number): number => v === undefined ? d : Number(v)
const cfg = {
  ...DEFAULTS,
  orders: num(values.orders, DEFAULTS.orders),
  rate: num(values.rate, DEFAULTS.rate),
  burstFactor: num(values['burst-factor'], DEFAULTS.burstFactor),
  outageMs: num(values['outage-ms'], DEFAULTS.outageMs),
  outageAtMs: num(values['outage-at-ms'], DEFAULTS.outageAtMs),
  customers: num(values.customers, DEFAULTS.customers),
  drainMs: num(values['drain-ms'], DEFAULTS.drainMs),
  steps: values.steps ? values.steps.split(',').map((s) => Number(s) as Step) : DEFAULTS.steps,
  conditions: values.conditions ? values.conditions.split(',').filter((c): c is Condition => (CONDITIONS as readonly string[]).includes(c)) : DEFAULTS.conditions,
  workDir: values['work-dir'] ?? join(tmpdir(), `homefacts-decoupling-${Date.now()}`),
  onProgress: (line: string) => process.stderr.write(`\r\x1b[2K${line}${line.includes('done') ? '\n' : ''}`)
}
process.stderr.write(`decoupling: ${cfg.orders} orders at ${cfg.rate}/s, outage ${cfg.outageMs} ms at ${cfg.outageAtMs} ms, burst ×${cfg.burstFactor}; logs in ${cfg.workDir}\n`)
const started = Date.now()
const rows = await runExperiment(cfg)
process.stdout.write(`\n${formatTable(rows)}\nTotal ${((Date.now() - started) / 1000).toFixed(0)} s.\n`)
