import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { Codes, HomefactsError, toIssues } from '#contract'
import { Controllers } from './cup/controllers.ts'
import { ThingEntry, toSpec, type ThingSpec } from './spec.ts'

/** A things file: the devices one process runs, declared without code. */
export const ThingsFile = z.strictObject({
  port: z.string().min(1).optional().describe('Serial port of the board the things are wired to'),
  things: z.array(ThingEntry).min(1, 'declare at least one thing').describe('The things, one entry each')
}).superRefine((file, ctx) => {
  const seen = new Set<string>()
  file.things.forEach((t, i) => {
    const key = `${t.area}/${t.thing}`
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['things', i, 'thing'], message: `"${key}" is declared twice` })
    seen.add(key)
  })
})

/** Zod issues as `things.2.pin: message` lines that name the bad key. */
function describe (issues: { path: string, message: string }[]): string {
  return issues.map((i) => `  ${i.path || '(top level)'}: ${i.message}`).join('\n')
}

/**
 * Parses a things file (already read as JSON). Throws `HF_THINGS_FILE` naming each bad key.
 * With `simulate`, every thing is read by the SIMULATED controller instead.
 */
export function parseThings (value: unknown, where: string, simulate = false): { port?: string | undefined, things: ThingSpec[] } {
  const r = ThingsFile.safeParse(value)
  if (!r.success) {
    const issues = toIssues(r.error.issues)
    throw new HomefactsError(Codes.THINGS_FILE, `${where} is invalid:\n${describe(issues)}`, issues)
  }
  const things = r.data.things.map((t) => toSpec(t, simulate))
  const issues = things.flatMap((t, i) => Controllers[t.controller].board && t.pin === undefined
    ? [{ path: `things.${i}.pin`, message: `controller ${t.controller} reads a board pin: give "pin"` }]
    : [])
  if (issues.length > 0) throw new HomefactsError(Codes.THINGS_FILE, `${where} is invalid:\n${describe(issues)}`, issues)
  return { port: r.data.port, things }
}

/** Reads and parses a things file; a missing file or bad JSON is `HF_THINGS_FILE` too. */
export function loadThingsFile (path: string, simulate = false): { port?: string | undefined, things: ThingSpec[] } {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new HomefactsError(Codes.THINGS_FILE, `cannot read things file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new HomefactsError(Codes.THINGS_FILE, `things file ${path} is not valid JSON: ${(err as Error).message}`)
  }
  return parseThings(value, `things file ${path}`, simulate)
}
