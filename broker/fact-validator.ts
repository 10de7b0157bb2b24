import { z } from 'zod'
import { Envelope, registry, validateFact, type Fact } from '#contract'

/** A validator of an already-parsed fact: returns it, or throws the contract's coded error. */
export type FactValidator = (value: unknown) => Fact

/**
 * zod node types whose JSON Schema accepts nothing zod refuses, with zod's output equal to its
 * input. Stricter is fine: what ajv refuses goes to zod.
 */
const EXACT_TYPES = new Set(['object', 'string', 'number', 'boolean', 'null', 'literal', 'enum', 'optional', 'nullable', 'unknown', 'any', 'array', 'union'])
/**
 * Checks that JSON Schema states at least as strictly as zod. ajv counts a string's length in
 * code points, zod in UTF-16 units: the same or fewer, so a minimum is as strict, a maximum not.
 */
const EXACT_CHECKS = new Set(['min_length', 'greater_than', 'less_than'])
/** String formats that zod checks with its pattern alone, which the JSON Schema carries. */
const PATTERN_FORMATS = new Set(['regex', 'datetime', 'date', 'time', 'ulid', 'uuid', 'guid', 'email'])

interface ZodDef { type: string, coerce?: boolean, catchall?: { _zod: { def: ZodDef } }, checks?: { _zod: { def: CheckDef } }[], format?: string, pattern?: unknown, check?: string }
interface CheckDef { check: string, format?: string, pattern?: unknown }

/** A string format is exact when zod checks only its pattern and JSON Schema carries that pattern, flags and all (none). */
function exactFormat (def: { format?: string, pattern?: unknown }, json: { pattern?: unknown }): boolean {
  return def.format !== undefined && PATTERN_FORMATS.has(def.format) && def.pattern instanceof RegExp && def.pattern.flags === '' && json.pattern === def.pattern.source
}

function exactNode (def: ZodDef, json: { pattern?: unknown }): boolean {
  if (!EXACT_TYPES.has(def.type) || def.coerce === true) return false
  // A strict or loose object: zod neither strips nor transforms keys.
  if (def.type === 'object' && !['never', 'unknown'].includes(def.catchall?._zod.def.type ?? 'strip')) return false
  if (def.check === 'string_format' && !exactFormat(def, json)) return false
  for (const c of def.checks ?? []) {
    const check = c._zod.def
    if (check.check === 'string_format' ? !exactFormat(check, json) : !EXACT_CHECKS.has(check.check) && !(check.check === 'number_format' && check.format === 'safeint')) return false
  }
  return true
}

/**
 * The JSON Schema zod exports for `schema` (as `homefacts contract export` does), or null when it
 * would accept anything zod refuses, or zod's output would differ from its input: a refinement,
 * a transform, a default, coercion, a stripped key or a format checked by more than a pattern.
 */
export function exactJsonSchema (schema: z.ZodType): Record<string, unknown> | null {
  let exact = true
  let json: Record<string, unknown>
  try {
    json = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io: 'input',
      unrepresentable: 'throw',
      override: (ctx) => {
        if (!exactNode(ctx.zodSchema._zod.def as ZodDef, ctx.jsonSchema)) exact = false
      }
    }) as Record<string, unknown>
  } catch {
    return null
  }
  return exact ? json : null
}

/** A compiled check of one JSON Schema: true when the value matches it. */
export type Check = (value: unknown) => boolean

/** The compiled checks of the envelope and of each fact type's `data` (`fact-checks.ts`). */
export interface FactChecks {
  /** Null when the envelope has no exact JSON Schema: then zod checks every fact. */
  envelope: Check | null
  data: ReadonlyMap<string, Check>
}

/**
 * The JSON Schemas to compile: the envelope's and each fact type's, where zod's export is exact
 * (`exactJsonSchema`), each without its `$schema` key.
 */
export function factSchemas (): { envelope: Record<string, unknown> | null, data: Map<string, Record<string, unknown>> } {
  const json = (schema: z.ZodType): Record<string, unknown> | null => {
    const out = exactJsonSchema(schema)
    if (out) delete out.$schema
    return out
  }
  const data = new Map<string, Record<string, unknown>>()
  for (const [type, def] of Object.entries(registry)) {
    const schema = json(def.Schema)
    if (schema) data.set(type, schema)
  }
  return { envelope: json(Envelope), data }
}

/**
 * The broker's check of a fact's envelope and `data`: what zod would say, at a fraction of the
 * cost. The checks compiled from the JSON Schemas above accept a valid fact as it is, with no copy
 * and next to no garbage; anything they refuse (or a type with no exact JSON Schema) goes to zod,
 * which gives the coded, field-level error, or accepts it. So a fact is accepted exactly when zod
 * accepts it.
 */
export function factValidator (checks: FactChecks): FactValidator {
  const { envelope, data } = checks
  if (!envelope) return validateFact
  return (value) => {
    if (envelope(value)) {
      const fact = value as { type: string, data: unknown }
      if (data.get(fact.type)?.(fact.data) === true) return value as Fact
    }
    return validateFact(value)
  }
}
