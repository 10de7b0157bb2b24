import type { z } from 'zod'
import * as CupEmpty from './facts/cup.empty.ts'
import * as CupFilled from './facts/cup.filled.ts'
import * as HouseholdDecided from './facts/household.decided.ts'
import * as HouseholdEscalated from './facts/household.escalated.ts'
import * as ButtonPressed from './facts/button.pressed.ts'
import * as ButtonReleased from './facts/button.released.ts'
import * as DoorOpened from './facts/door.opened.ts'
import * as DoorClosed from './facts/door.closed.ts'
import * as MotionDetected from './facts/motion.detected.ts'
import * as MotionCleared from './facts/motion.cleared.ts'
import * as OrderCreated from './facts/order.created.ts'
import * as OrderPaid from './facts/order.paid.ts'
import * as OrderShipped from './facts/order.shipped.ts'
import * as OrderCancelled from './facts/order.cancelled.ts'
import * as CustomerCreated from './facts/customer.created.ts'
import * as CustomerUpdated from './facts/customer.updated.ts'
import * as NotificationSent from './facts/notification.sent.ts'
import * as NotificationFailed from './facts/notification.failed.ts'
import * as NotificationWithdrawn from './facts/notification.withdrawn.ts'
import * as HouseholdClaimed from './facts/household.claimed.ts'
import * as HouseholdOffered from './facts/household.offered.ts'
import * as HouseholdOfferWithdrawn from './facts/household.offer-withdrawn.ts'
import * as AlertRaised from './facts/alert.raised.ts'

/** One entry per fact type: its data schema and, for thing facts, the state value it sets. */
export interface FactDefinition<S extends z.ZodType = z.ZodType> {
  readonly TYPE: string
  readonly Schema: S
  readonly STATE?: string
}

/** Every fact type the contract knows. A new type is one file in `facts/` plus one line here. */
export const registry = {
  [CupEmpty.TYPE]: CupEmpty,
  [CupFilled.TYPE]: CupFilled,
  [HouseholdDecided.TYPE]: HouseholdDecided,
  [HouseholdEscalated.TYPE]: HouseholdEscalated,
  [ButtonPressed.TYPE]: ButtonPressed,
  [ButtonReleased.TYPE]: ButtonReleased,
  [DoorOpened.TYPE]: DoorOpened,
  [DoorClosed.TYPE]: DoorClosed,
  [MotionDetected.TYPE]: MotionDetected,
  [MotionCleared.TYPE]: MotionCleared,
  [OrderCreated.TYPE]: OrderCreated,
  [OrderPaid.TYPE]: OrderPaid,
  [OrderShipped.TYPE]: OrderShipped,
  [OrderCancelled.TYPE]: OrderCancelled,
  [CustomerCreated.TYPE]: CustomerCreated,
  [CustomerUpdated.TYPE]: CustomerUpdated,
  [NotificationSent.TYPE]: NotificationSent,
  [NotificationFailed.TYPE]: NotificationFailed,
  [NotificationWithdrawn.TYPE]: NotificationWithdrawn,
  [HouseholdClaimed.TYPE]: HouseholdClaimed,
  [HouseholdOffered.TYPE]: HouseholdOffered,
  [HouseholdOfferWithdrawn.TYPE]: HouseholdOfferWithdrawn,
  [AlertRaised.TYPE]: AlertRaised
} as const satisfies Record<string, FactDefinition>

export type FactType = keyof typeof registry
/** Fact type → its `data` type, inferred from the schemas. */
export type FactMap = { [K in FactType]: z.infer<(typeof registry)[K]['Schema']> }

export function isFactType (type: string): type is FactType {
  return Object.hasOwn(registry, type)
}

/** The state value a fact type sets on its thing, if it sets one. */
export function stateOf (type: FactType): string | undefined {
  const def: FactDefinition = registry[type]
  return def.STATE
}

/** The fact name a type is published under: the last part of the dotted type. */
export function factName (type: string): string {
  return type.slice(type.lastIndexOf('.') + 1)
}
