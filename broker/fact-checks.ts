import { Ajv2020 } from 'ajv/dist/2020.js'
import standaloneCode from 'ajv/dist/standalone/index.js'
import { factSchemas, type Check, type FactChecks } from './fact-validator.ts'

// The build (scripts/build.mjs) replaces this module by the code `factChecksModule()` writes, so
// the command neither loads ajv nor compiles the schemas at start: ajv compiled them in the build.
// Run from TypeScript (tests, the bench), they are compiled here, at start.

// Only the verdict is used (zod explains a refusal), so no error messages are compiled.
const ajvOptions = { strict: true, validateFormats: false, unicodeRegExp: false, allErrors: false, messages: false } as const

/** The fact checks, compiled by ajv now. */
export function factChecks (): FactChecks {
  const ajv = new Ajv2020(ajvOptions)
  const { envelope, data } = factSchemas()
  return {
    envelope: envelope ? ajv.compile(envelope) as Check : null,
    data: new Map([...data].map(([type, schema]) => [type, ajv.compile(schema) as Check]))
  }
}

/**
 * The source of an ES module with the same `factChecks()` as this one, its checks compiled now
 * (ajv's standalone code): what the build puts in this module's place.
 */
export function factChecksModule (): string {
  const ajv = new Ajv2020({ ...ajvOptions, code: { source: true, esm: true } })
  const { envelope, data } = factSchemas()
  const names: Record<string, string> = {}
  if (envelope) ajv.addSchema(envelope, names.envelope = 'envelope')
  const types = [...data.keys()]
  types.forEach((type, i) => ajv.addSchema(data.get(type)!, names[`data${i}`] = `data:${type}`))
  // The code requires ajv's runtime helpers (the length of a string in code points): imports here.
  const imports: string[] = []
  // ajv is CommonJS: its default import is `module.exports`, whose `default` is the function.
  const code = standaloneCode.default(ajv, names).replace(/^"use strict";/, '').replace(/require\("([^"]+)"\)/g, (_: string, path: string) => {
    imports.push(`import ajvRuntime${imports.length} from ${JSON.stringify(`${path}.js`)}`)
    return `ajvRuntime${imports.length - 1}`
  })
  return [
    '// Written by scripts/build.mjs from broker/fact-checks.ts: the fact checks, compiled by ajv.',
    ...imports,
    code,
    'export function factChecks () {',
    `  return { envelope: ${envelope ? 'envelope' : 'null'}, data: new Map([${types.map((t, i) => `[${JSON.stringify(t)}, data${i}]`).join(', ')}]) }`,
    '}',
    ''
  ].join('\n')
}
