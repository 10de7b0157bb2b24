/**
 * The shared contract: the fact envelope, topics, the registry and the contract check.
 * Imported everywhere as `#contract`. It depends on nothing but zod.
 */
export * from './errors.ts'
export * from './topics.ts'
export * from './envelope.ts'
export * from './registry.ts'
export * from './make-fact.ts'
export * from './check.ts'
export * as CupEmpty from './facts/cup.empty.ts'
export * as CupFilled from './facts/cup.filled.ts'
