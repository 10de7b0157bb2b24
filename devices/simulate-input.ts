import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { Codes, HomefactsError, toIssues } from '#contract'
import type { Clock } from './clock.ts'
import type { Device } from './device.ts'

/** The levels a key press or a named script step sets. */
export const LOW_LEVEL = 0.02
export const HIGH_LEVEL = 0.95

const Step = z.strictObject({
  afterMs: z.number().int().min(0).describe('Wait this long after the previous step'),
  level: z.number().min(0).max(1).optional().describe('The reading to set, 0..1'),
  set: z.enum(['low', 'high', 'empty', 'full']).optional().describe('Or a named side: empty/low, full/high'),
  thing: z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/).optional().describe('"area/thing"; default: every simulated thing')
}).refine((s) => (s.level === undefined) !== (s.set === undefined), 'give exactly one of "level" or "set"')

/** A scripted timeline for simulated things. */
export const Script = z.strictObject({
  steps: z.array(Step).min(1),
  repeat: z.boolean().default(false).describe('Start again after the last step')
})
export type Script = z.infer<typeof Script>

/** Reads a script file; `HF_DEVICE_SCRIPT` names the bad key. */
export function loadScript (path: string): Script {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new HomefactsError(Codes.DEVICE_SCRIPT, `cannot read script ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const r = Script.safeParse(value)
  if (!r.success) {
    const issues = toIssues(r.error.issues)
    throw new HomefactsError(Codes.DEVICE_SCRIPT, `script ${path} is invalid:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`, issues)
  }
  return r.data
}

const levelOf = (s: z.infer<typeof Step>): number => s.level ?? (s.set === 'low' || s.set === 'empty' ? LOW_LEVEL : HIGH_LEVEL)

/** Plays a script against simulated devices. Returns a function that stops it. */
export function playScript (script: Script, devices: Device[], clock: Clock): () => void {
  let i = 0
  let handle: unknown
  const next = (): void => {
    const step = script.steps[i]
    if (!step) return
    handle = clock.setTimeout(() => {
      for (const d of devices) {
        if (!step.thing || step.thing === `${d.spec.area}/${d.spec.thing}`) d.source.set(levelOf(step))
      }
      i++
      if (i >= script.steps.length && script.repeat) i = 0
      next()
    }, step.afterMs)
  }
  next()
  return () => clock.clearTimeout(handle)
}

/**
 * Keys for simulated things: `e` (or `l`) sets the selected thing low (a cup: empty), `f` (or
 * `h`) sets it high (full, pressed, open, motion); `1`..`9` select a thing. Works on a terminal
 * (raw mode) and on a pipe, so a test or another program can drive the device through stdin.
 */
export function keyboard (input: NodeJS.ReadStream, devices: Device[], say: (line: string) => void): () => void {
  let selected = 0
  const onData = (chunk: Buffer | string): void => {
    for (const key of chunk.toString()) {
      if (key === '\u0003') return void process.kill(process.pid, 'SIGINT')
      const device = devices[selected]
      if (!device) return
      if (key === 'e' || key === 'l') device.source.set(LOW_LEVEL)
      else if (key === 'f' || key === 'h') device.source.set(HIGH_LEVEL)
      else if (/[1-9]/.test(key) && devices[Number(key) - 1]) {
        selected = Number(key) - 1
        say(`selected ${devices[selected]!.spec.area}/${devices[selected]!.spec.thing}`)
      }
    }
  }
  if (input.isTTY) input.setRawMode(true)
  input.on('data', onData)
  input.resume()
  return () => {
    input.off('data', onData)
    if (input.isTTY) input.setRawMode(false)
    input.pause()
  }
}
