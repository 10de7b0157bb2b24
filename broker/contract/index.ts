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
export * from './deadletter.ts'
export * as CupEmpty from './facts/cup.empty.ts'
export * as CupFilled from './facts/cup.filled.ts'
export * as HouseholdDecided from './facts/household.decided.ts'
export * as HouseholdEscalated from './facts/household.escalated.ts'
export * as ButtonPressed from './facts/button.pressed.ts'
export * as ButtonReleased from './facts/button.released.ts'
export * as DoorOpened from './facts/door.opened.ts'
export * as DoorClosed from './facts/door.closed.ts'
export * as MotionDetected from './facts/motion.detected.ts'
export * as MotionCleared from './facts/motion.cleared.ts'
