/**
 * Topic builders and the one parser for the topic table in ARCHITECTURE.md.
 * Areas, things, members, names and ids are lower-case kebab-case.
 */
export const SEGMENT = /^[a-z0-9]+(?:-[a-z0-9]+)*$/

/** The retained hub availability topic; the hub's will sets it `offline`. */
export const HUB_STATE_TOPIC = 'homefacts/hub/state'
/** The prefix of the dead-letter topics, one per publishing client. */
export const DEADLETTER_PREFIX = 'homefacts/deadletter/'

function seg (value: string, what: string): string {
  if (!SEGMENT.test(value)) throw new TypeError(`${what} "${value}" is not lower-case kebab-case`)
  return value
}

/** `home/<area>/<thing>`: the subject of every fact about a thing. */
export const thingSubject = (area: string, thing: string): string => `home/${seg(area, 'area')}/${seg(thing, 'thing')}`
export const stateTopic = (area: string, thing: string): string => `${thingSubject(area, thing)}/state`
export const thingFactTopic = (area: string, thing: string, name: string): string => `${thingSubject(area, thing)}/fact/${seg(name, 'fact name')}`
export const availabilityTopic = (area: string, thing: string): string => `${thingSubject(area, thing)}/availability`
export const claimTopic = (area: string, thing: string): string => `${thingSubject(area, thing)}/claim`
export const memberSubject = (member: string): string => `household/${seg(member, 'member')}`
export const presenceTopic = (member: string): string => `${memberSubject(member)}/presence`
export const memberFactTopic = (member: string, name: string): string => `${memberSubject(member)}/fact/${seg(name, 'fact name')}`
export const orderSubject = (orderId: string): string => `shop/orders/${seg(orderId, 'order id')}`
export const orderFactTopic = (orderId: string, name: string): string => `${orderSubject(orderId)}/fact/${seg(name, 'fact name')}`
export const customerSubject = (customerId: string): string => `shop/customers/${seg(customerId, 'customer id')}`
export const customerFactTopic = (customerId: string, name: string): string => `${customerSubject(customerId)}/fact/${seg(name, 'fact name')}`
export const customerProfileTopic = (customerId: string): string => `${customerSubject(customerId)}/profile`
/** Client ids are free-form, so `/`, `+` and `#` are replaced to keep this one topic level. */
export const deadletterTopic = (clientId: string): string => DEADLETTER_PREFIX + clientId.replace(/[/+#]/g, '_')

/** What a topic under `home/`, `household/` or `shop/` is, with its parts. */
export type ParsedTopic =
  | { kind: 'state', subject: string, area: string, thing: string }
  | { kind: 'fact', subject: string, name: string, area?: string, thing?: string, member?: string, orderId?: string, customerId?: string }
  | { kind: 'availability', subject: string, area: string, thing: string }
  | { kind: 'claim', subject: string, area: string, thing: string }
  | { kind: 'presence', subject: string, member: string }
  | { kind: 'profile', subject: string, customerId: string }

/** The roots whose every publish is checked against the contract. */
export const CONTRACT_ROOTS = ['home', 'household', 'shop'] as const

/** True when the topic is under a root the contract governs. */
export function isContractTopic (topic: string): boolean {
  return topic.startsWith('home/') || topic.startsWith('household/') || topic.startsWith('shop/')
}

/** Parses a topic name (no wildcards). Returns `null` when it matches no shape in the table. */
export function parseTopic (topic: string): ParsedTopic | null {
  const p = topic.split('/')
  if (!p.every((s) => SEGMENT.test(s))) return null
  const [root, a, b, c, d, ...rest] = p
  if (rest.length > 0) return null
  if (root === 'home' && a && b && c) {
    const subject = `home/${a}/${b}`
    if (c === 'fact' && d) return { kind: 'fact', subject, name: d, area: a, thing: b }
    if (d !== undefined) return null
    if (c === 'state' || c === 'availability' || c === 'claim') return { kind: c, subject, area: a, thing: b }
    return null
  }
  if (root === 'household' && a && b) {
    const subject = `household/${a}`
    if (b === 'fact' && c && d === undefined) return { kind: 'fact', subject, name: c, member: a }
    if (b === 'presence' && c === undefined) return { kind: 'presence', subject, member: a }
    return null
  }
  if (root === 'shop' && b && c) {
    if (a === 'orders' && c === 'fact' && d) return { kind: 'fact', subject: `shop/orders/${b}`, name: d, orderId: b }
    if (a === 'customers') {
      const subject = `shop/customers/${b}`
      if (c === 'fact' && d) return { kind: 'fact', subject, name: d, customerId: b }
      if (c === 'profile' && d === undefined) return { kind: 'profile', subject, customerId: b }
    }
  }
  return null
}

/**
 * True when `topic` matches the MQTT topic filter `filter` ([MQTT-4.7]).
 * `+` matches one level, a trailing `#` matches the parent and any depth below it.
 */
export function topicMatches (filter: string, topic: string): boolean {
  if (filter === topic) return true
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    const level = f[i]
    if (level === '#') return i === f.length - 1
    if (i >= t.length) return false
    if (level !== '+' && level !== t[i]) return false
  }
  return f.length === t.length
}
