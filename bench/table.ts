/** One row of the results table: a scenario measured on both brokers. */
export interface Row {
  scenario: string
  unit: string
  homefacts: number
  plain: number
  /** Decimal places to show. */
  digits: number
  /** What the row must meet, and whether homefacts met it; none for figures without a target. */
  target?: { text: string, met: boolean }
}

const fmt = (v: number, digits: number): string => Number.isFinite(v)
  ? v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
  : 'n/a'

/** The markdown table: scenario | homefacts | plain aedes | ratio (homefacts / plain) | target. */
export function markdownTable (rows: readonly Row[]): string {
  const lines = [
    '| scenario | homefacts | plain aedes | ratio (homefacts / plain) | target |',
    '|---|--:|--:|--:|---|'
  ]
  for (const r of rows) {
    const ratio = r.plain === 0 ? 'n/a' : `${fmt(r.homefacts / r.plain, 2)}×`
    const target = r.target ? `${r.target.text}: ${r.target.met ? 'met' : '**missed**'}` : ''
    lines.push(`| ${r.scenario} (${r.unit}) | ${fmt(r.homefacts, r.digits)} | ${fmt(r.plain, r.digits)} | ${ratio} | ${target} |`)
  }
  return lines.join('\n')
}

export const MB = 1024 * 1024
