import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const SUITE = join(import.meta.dirname, 'session-store.abstract.mjs')

describe('the session store', () => {
  it('passes aedes-persistence\'s own abstract suite, every test of it', async () => {
    // node:test's suite, in a process of its own: its `t.assert` and `t.plan` are node:test's.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', SUITE], { cwd: join(import.meta.dirname, '..', '..') })
      .catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }))
    const count = (name: string): number => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(stdout)?.[1] ?? NaN)
    expect(stdout.split('\n').filter((l) => l.startsWith('not ok'))).toStrictEqual([])
    expect({ fail: count('fail'), cancelled: count('cancelled'), skipped: count('skipped') }).toStrictEqual({ fail: 0, cancelled: 0, skipped: 0 })
    expect(count('pass')).toBe(count('tests'))
    // aedes-persistence 11's suite has 50 tests; a newer one may have more, never fewer.
    expect(count('tests')).toBeGreaterThanOrEqual(50)
  }, 60_000)
})
