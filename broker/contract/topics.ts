/**
 * Topic builders and the one parser for the topic table in docs/architecture.md ("Topics").
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
export const memberSubject = (member: string): string => `household/${seg(member, 'member')}`
export const presenceTopic = (member: string): string => `${memberSubject(member)}/presence`
export const memberFactTopic = (member: string, name: string): string => `${memberSubject(member)}/fact/${seg(name, 'fact name')}`
export const orderSubject = (orderId: string): string => `shop/orders/${seg(orderId, 'order id')}`
export const orderFactTopic = (orderId: string, name: string): string => `${orderSubject(orderId)}/fact/${seg(name, 'fact name')}`
export const customerSubject = (customerId: string): string => `shop/customers/${seg(customerId, 'customer id')}`
export const customerFactTopic = (customerId: string, name: string): string => `${customerSubject(customerId)}/fact/${seg(name, 'fact name')}`
export const customerProfileTopic = (customerId: string): string => `${customerSubject(customerId)}/profile`
/** `notify/<recipient>`: the subject of notification facts about one recipient (a customer, a member). */
export const notifySubject = (recipient: string): string => `notify/${seg(recipient, 'recipient')}`
export const notifyFactTopic = (recipient: string, name: string): string => `${notifySubject(recipient)}/fact/${seg(name, 'fact name')}`
/** `flows/<flow>`: the subject of the derived facts a Node-RED flow emits. */
export const flowSubject = (flow: string): string => `flows/${seg(flow, 'flow')}`
export const flowFactTopic = (flow: string, name: string): string => `${flowSubject(flow)}/fact/${seg(name, 'fact name')}`
/** Client ids are free-form, so `/`, `+` and `#` are replaced to keep this one topic level. */
export const deadletterTopic = (clientId: string): string => DEADLETTER_PREFIX + clientId.replace(/[/+#]/g, '_')

/** The prefix of the topics that mirror another house of the estate: `sites/<site>/home/...`, `sites/<site>/household/...`. */
export const SITES_PREFIX = 'sites/'
/** `sites/<site>/<topic>`: a topic of house `site` as the other houses of the estate see it. */
export const siteTopic = (site: string, topic: string): string => `${SITES_PREFIX}${seg(site, 'site')}/${topic}`

/**
 * What a contract topic is, with its parts. Another house's (`sites/<site>/home/...`) parses as its
 * own topic there, with `site` set and `subject` prefixed by `sites/<site>/`, so the subject names
 * the thing in this house's terms (its claim is `<subject>/claim`, its state `<subject>/state`).
 */
export type ParsedTopic = (
  | { kind: 'state', subject: string, area: string, thing: string }
  | { kind: 'fact', subject: string, name: string, area?: string, thing?: string, member?: string, orderId?: string, customerId?: string, recipient?: string, flow?: string }
  | { kind: 'availability', subject: string, area: string, thing: string }
  | { kind: 'claim', subject: string, area: string, thing: string }
  | { kind: 'presence', subject: string, member: string }
  | { kind: 'profile', subject: string, customerId: string }
) & { site?: string }

/** True when the topic is under a root the contract governs: its every publish is checked. */
export function isContractTopic (topic: string): boolean {
  return topic.startsWith('home/') || topic.startsWith('household/') || topic.startsWith('shop/') || topic.startsWith('notify/') || topic.startsWith('flows/') || topic.startsWith(SITES_PREFIX)
}

// One anchored pattern per root, built from SEGMENT: a topic is matched in one pass, with no split.
const S = '([a-z0-9]+(?:-[a-z0-9]+)*)'
const HOME = new RegExp(`^home/${S}/${S}/(?:fact/${S}|(state|availability|claim))$`)
const HOUSEHOLD = new RegExp(`^household/${S}/(?:fact/${S}|(presence))$`)
const SHOP = new RegExp(`^shop/(?:orders/${S}/fact/${S}|customers/${S}/(?:fact/${S}|(profile)))$`)
const NOTIFY = new RegExp(`^notify/${S}/fact/${S}$`)
const FLOWS = new RegExp(`^flows/${S}/fact/${S}$`)
const SITE = new RegExp(`^sites/${S}/((?:home|household)/.+)$`)

/** Parses a topic name (no wildcards). Returns `null` when it matches no shape in the table. */
export function parseTopic (topic: string): ParsedTopic | null {
  let m: RegExpExecArray | null
  if (topic.startsWith(SITES_PREFIX)) {
    // Another house's home and household only: the estate shares nothing else.
    if (!(m = SITE.exec(topic))) return null
    const [, site, rest] = m as unknown as [string, string, string]
    const own = parseTopic(rest)
    return own ? { ...own, subject: `${SITES_PREFIX}${site}/${own.subject}`, site } : null
  }
  if (topic.startsWith('home/')) {
    if (!(m = HOME.exec(topic))) return null
    const [, area, thing, name, kind] = m as unknown as [string, string, string, string | undefined, 'state' | 'availability' | 'claim' | undefined]
    const subject = `home/${area}/${thing}`
    return name !== undefined ? { kind: 'fact', subject, name, area, thing } : { kind: kind!, subject, area, thing }
  }
  if (topic.startsWith('household/')) {
    if (!(m = HOUSEHOLD.exec(topic))) return null
    const [, member, name] = m as unknown as [string, string, string | undefined]
    const subject = `household/${member}`
    return name !== undefined ? { kind: 'fact', subject, name, member } : { kind: 'presence', subject, member }
  }
  if (topic.startsWith('shop/')) {
    if (!(m = SHOP.exec(topic))) return null
    const [, orderId, orderFact, customerId, customerFact] = m as unknown as [string, string | undefined, string | undefined, string, string | undefined]
    if (orderId !== undefined) return { kind: 'fact', subject: `shop/orders/${orderId}`, name: orderFact!, orderId }
    const subject = `shop/customers/${customerId}`
    return customerFact !== undefined ? { kind: 'fact', subject, name: customerFact, customerId } : { kind: 'profile', subject, customerId }
  }
  if (topic.startsWith('notify/')) {
    if (!(m = NOTIFY.exec(topic))) return null
    const [, recipient, name] = m as unknown as [string, string, string]
    return { kind: 'fact', subject: `notify/${recipient}`, name, recipient }
  }
  if (topic.startsWith('flows/')) {
    if (!(m = FLOWS.exec(topic))) return null
    const [, flow, name] = m as unknown as [string, string, string]
    return { kind: 'fact', subject: `flows/${flow}`, name, flow }
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
