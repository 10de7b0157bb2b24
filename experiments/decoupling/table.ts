import type { Condition, Row } from './harness.ts'

/**
 * Which claimed benefit a row shows (low latency, independent operation, independent
 * scaling, own cadence, many consumers, resilience, catch-up). Compare a step 3 row with the
 * step 1 and 2 rows of the same condition.
 */
export const SHOWS: Record<Condition, string> = {
  normal: 'low latency (p50/p99)',
  'customers-down': 'independent operation',
  'notifications-down': 'resilience; catch-up',
  burst: 'own cadence'
}

/** Benefits no row of this table shows. */
export const NOT_SHOWN = 'independent scaling: not shown (one instance of each service, no $share); many consumers: not shown here (test/ adds an audit-log consumer with no change to Orders)'

const ms = (n: number): string => Number.isNaN(n) ? '-' : n >= 10000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`

/** The table as Markdown, one row per step and condition. */
export function formatTable (rows: readonly Row[]): string {
  const head = ['step', 'condition', 'orders accepted', 'notified at once', 'notified eventually', 'lost', 'duplicated', 'order API p50', 'order API p99', 'last notification after', 'shows']
  const lines = [head, head.map(() => '---')]
  for (const r of rows) {
    lines.push([String(r.step), r.condition, `${r.accepted}/${r.sent}`, String(r.atOnce), String(r.eventually), String(r.lost), String(r.duplicated), ms(r.p50), ms(r.p99), ms(r.lastAfterMs), SHOWS[r.condition]])
  }
  return lines.map((l) => `| ${l.join(' | ')} |`).join('\n') + `\n\nNot shown: ${NOT_SHOWN}.\n`
}
