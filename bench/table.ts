/** One row of the results table: a scenario's figure in each column (undefined: not measured there). */
export interface Row {
  scenario: string
  unit: string
  values: readonly (number | undefined)[]
  /** Decimal places to show. */
  digits: number
  /** The floor, checked on each homefacts column. */
  target?: { text: string, met: (v: number) => boolean }
}

export interface Column {
  name: string
  /** A homefacts column: the target is checked on it. */
  hub: boolean
}

const fmt = (v: number, digits: number): string => Number.isFinite(v)
  ? v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
  : 'n/a'

/**
 * The markdown table: a row per scenario, a column per broker. When the first column is
 * Mosquitto, every other figure carries its ratio to Mosquitto's.
 */
export function markdownTable (columns: readonly Column[], rows: readonly Row[], reference: number | null): string {
  const lines = [
    `| scenario | ${columns.map((c) => c.name).join(' | ')} | target |`,
    `|---|${columns.map(() => '--:').join('|')}|---|`
  ]
  for (const r of rows) {
    const ref = reference === null ? undefined : r.values[reference]
    const cells = r.values.map((v, i) => {
      if (v === undefined) return '–'
      const ratio = ref !== undefined && i !== reference && ref !== 0 && Number.isFinite(v) ? ` (${fmt(v / ref, v / ref >= 10 ? 0 : 1)}×)` : ''
      return fmt(v, r.digits) + ratio
    })
    const checks = r.target
      ? columns.flatMap((c, i) => c.hub && r.values[i] !== undefined ? [`${c.name.replace(/^homefacts, /, '')} ${r.target!.met(r.values[i]!) ? 'met' : '**missed**'}`] : [])
      : []
    const target = r.target ? `${r.target.text}: ${checks.join(', ')}` : ''
    lines.push(`| ${r.scenario} (${r.unit}) | ${cells.join(' | ')} | ${target} |`)
  }
  return lines.join('\n')
}

export const MB = 1024 * 1024
