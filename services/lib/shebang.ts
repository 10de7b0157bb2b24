import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PACKAGE_ROOT } from './package-root.ts'

/**
 * The environment and Node flags on bin/homefacts.js's shebang (`#!/usr/bin/env -S [NAME=value ...]
 * node <flags>`): what a process that starts it through `process.execPath` must pass itself.
 */
export function commandShebang (): { env: Record<string, string>, flags: string[] } {
  const shebang = readFileSync(join(PACKAGE_ROOT, 'bin', 'homefacts.js'), 'utf8').split('\n', 1)[0]!
  const m = /^#!\/usr\/bin\/env(?: -S)?((?: \w+=\S*)*) node((?: --[\w-]+(?:=\S+)?)*)$/.exec(shebang)
  if (!m) throw new Error(`bin/homefacts.js: unexpected shebang "${shebang}"`)
  const env = Object.fromEntries(m[1]!.split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
  return { env, flags: m[2]!.split(' ').filter(Boolean) }
}
