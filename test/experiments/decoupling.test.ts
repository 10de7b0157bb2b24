import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DEFAULTS, runExperiment, schedule } from '../../experiments/decoupling/harness.ts'
import { formatTable } from '../../experiments/decoupling/table.ts'

const workDir = mkdtempSync(join(tmpdir(), 'hf-decoupling-test-'))
afterAll(() => rmSync(workDir, { recursive: true, force: true }))

describe('the decoupling experiment harness', () => {
  it('sends the middle third of a burst run ten times faster, and a normal run at a steady rate', () => {
    const cfg = { orders: 30, rate: 10, burstFactor: 10 }
    expect(schedule(cfg, 'normal').at(-1)).toBe(2900)
    const burst = schedule(cfg, 'burst')
    expect(burst[11]! - burst[10]!).toBeCloseTo(10)
    expect(burst[1]! - burst[0]!).toBeCloseTo(100)
  })

  it('runs steps 1, 2 and 3 with 20 orders in normal operation; step 3 loses and repeats no notification', async () => {
    // The three steps run side by side here to stay fast; the experiment itself runs them one after another.
    const cfg = { ...DEFAULTS, orders: 20, rate: 20, customers: 3, drainMs: 8000, conditions: ['normal'] as const, workDir }
    const rows = (await Promise.all(([1, 2, 3] as const).map((step) => runExperiment({ ...cfg, steps: [step] })))).flat()
    expect(rows.map((r) => [r.step, r.condition])).toStrictEqual([[1, 'normal'], [2, 'normal'], [3, 'normal']])
    const step3 = rows[2]!
    expect(step3).toMatchObject({ sent: 20, accepted: 20, eventually: 20, lost: 0, duplicated: 0 })
    for (const r of rows) expect(r.accepted).toBe(20)
    const table = formatTable(rows)
    expect(table.split('\n').filter((l) => l.startsWith('| 3 | normal |'))).toHaveLength(1)
    expect(table).toContain('low latency')
  }, 60_000)
})
