import { z } from 'zod'

/** A ULID: 26 Crockford base32 characters, sortable by creation time. */
export const FactId = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a ULID (26 Crockford base32 characters)')
  .describe('Unique, time-sortable fact id (ULID); the dedup key for every consumer')

/** The structured-mode CloudEvents 1.0 envelope every fact travels in; `data` is checked against its `type`'s schema. */
export const Envelope = z.object({
  specversion: z.literal('1.0').describe('CloudEvents spec version'),
  id: FactId,
  type: z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'must be dotted lower-case, like "cup.empty"').describe('Fact type; selects the data schema'),
  source: z.string().min(1).describe('Who emitted the fact, e.g. "devices/kitchen-cup"'),
  subject: z.string().min(1).describe('The thing the fact is about, e.g. "home/kitchen/lily-cup"'),
  time: z.iso.datetime({ offset: true }).describe('When it happened (RFC 3339)'),
  seq: z.number().int().nonnegative().describe('Per source and subject; grows by one per fact and survives restarts'),
  datacontenttype: z.literal('application/json'),
  causationid: FactId.optional().describe('Id of the fact that caused this one'),
  correlationid: FactId.optional().describe('Id of the first fact of the story this one belongs to'),
  data: z.unknown()
}).strict()

export type EnvelopeShape = z.infer<typeof Envelope>

/** The retained state of a thing: its current value and the fact that set it. */
export const ThingState = z.object({
  value: z.string().min(1).describe('Current value, e.g. "empty"'),
  seq: z.number().int().nonnegative().describe('seq of the fact that set this state'),
  since: z.iso.datetime({ offset: true }).describe('time of that fact'),
  factId: FactId.describe('id of that fact')
}).strict()
export type ThingState = z.infer<typeof ThingState>

/** Retained on `.../claim`: who is handling an open fact. An empty payload clears it. */
export const Claim = z.object({
  factId: FactId,
  by: z.string().min(1).describe('Household member handling the fact'),
  at: z.iso.datetime({ offset: true })
}).strict()
export type Claim = z.infer<typeof Claim>

export const Availability = z.enum(['online', 'offline'])
export type Availability = z.infer<typeof Availability>

export const Presence = z.enum(['home', 'away', 'busy'])
export type Presence = z.infer<typeof Presence>

/** An id in the shop (order, customer): one topic level, so lower-case kebab-case, e.g. a lower-cased ULID. */
export const ShopId = z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be lower-case kebab-case (e.g. a lower-cased ULID)')
  .describe('Order or customer id: fits one topic level')

/** How a customer can be reached. */
export const ContactChannels = {
  email: z.email().optional().describe('E-mail address'),
  phone: z.string().regex(/^\+?[0-9][0-9 -]{2,}$/, 'must be a phone number').optional().describe('Phone number, e.g. +44 7700 900123'),
  push: z.array(z.string().min(1)).optional().describe('Web Push subscription ids'),
  ntfy: z.string().min(1).optional().describe('ntfy topic')
}

/**
 * Retained on `shop/customers/<id>/profile`: the latest profile (a compacted topic). `seq` is the
 * seq of the customer fact that set it: one source (Customers) owns each customer subject, so a
 * consumer ignores any profile or fact whose seq is not higher than the one it holds.
 */
export const CustomerProfile = z.object({
  customerId: ShopId,
  name: z.string().min(1),
  ...ContactChannels,
  seq: z.number().int().nonnegative().describe('seq of the customer fact that set this profile'),
  updatedAt: z.iso.datetime({ offset: true })
}).strict()
export type CustomerProfile = z.infer<typeof CustomerProfile>
