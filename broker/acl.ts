import { HUB_STATE_TOPIC, deadletterTopic, topicMatches } from '#contract'
import type { Principal } from './users.ts'

/** Home Assistant's birth and will topic (its MQTT integration's default). */
const HA_STATUS_TOPIC = 'homeassistant/status'

/** What each shop service may publish and subscribe to: topic patterns (issue 10, least privilege). */
export const SHOP_GRANTS = Object.freeze({
  orders: { publish: ['shop/orders/+/fact/+'], subscribe: [] },
  customers: { publish: ['shop/customers/+/fact/+', 'shop/customers/+/profile'], subscribe: [] },
  notifications: { publish: ['notify/+/fact/+'], subscribe: ['shop/orders/+/fact/+', 'shop/customers/+/fact/+', 'shop/customers/+/profile'] }
} satisfies Record<string, { publish: string[], subscribe: string[] }>)

/**
 * The ACL by role and topic pattern. Pure functions of (principal, clientId, topic).
 *
 * - admin: everything.
 * - service: reads everything; writes the house, the household, the shop and Home Assistant discovery.
 * - device: writes only its own `home/<area>/<thing>/` subtree (not its claim) and discovery (not
 *   Home Assistant's status); reads its subtree,
 *   `homeassistant/status` and the hub state. A device bound to a member (a physical "I'll do
 *   it" button, issue 29) also writes the claims of its things; the broker's claim rules check
 *   that it claims only as that member.
 * - member (a phone): reads the house and household; writes claims and its own `household/<member>/` subtree.
 * - responder (a household member's responder service): reads the house and household; writes its
 *   member's decisions and escalations (`household/<member>/fact/...`), its member's offers
 *   (`notify/<member>/fact/...`, issue 29) and claims as its member, and nothing under a device's
 *   `state` (issue 9, least privilege).
 * - shop (a shop clerk using the orders and customers HTTP APIs): reads the shop; publishes
 *   nothing, because the Orders and Customers services own every shop subject (issue 10).
 * - service also writes notification facts (`notify/...`); members and responders read their own.
 *
 * - nodered (the hub's Node-RED): reads the house, the household, the shop and the flows' facts; publishes
 *   derived facts (`flows/<flow>/fact/<name>`) and claims only as its configured `members` (issue 11).
 *
 * - orders, customers, notifications (the shop services' own MQTT users, issue 10: "the ACL gives
 *   each service's MQTT user only what it publishes"): each publishes only its own facts (and
 *   Customers its retained profiles) and reads only what it consumes (`SHOP_GRANTS`).
 *
 * - homeassistant (Home Assistant's MQTT integration, issue 13): publishes only its birth and will
 *   on `homeassistant/status`; reads discovery (`homeassistant/...`), the house (states,
 *   availability, claims) and the hub state. It writes no device's state.
 *
 * - estate (the hub's link to the other houses): publishes the other houses' facts,
 *   states, claims, availability and presence under `sites/<site>/...`, and claims for their
 *   members on this house's things; reads the house and the household (what it shares).
 * - Another house's things (`sites/<site>/home/...`, `sites/<site>/household/...`) are read as
 *   this house's own are: whoever reads `home` and `household` reads them, and whoever may claim
 *   a thing here may claim one there (the house that owns it settles the claim).
 *
 * Everyone may read their own dead-letter topic, to learn why a publish was refused.
 */
/** A claim on a thing of this house or of another house of the estate. */
const isClaimTopic = (topic: string): boolean => topicMatches('home/+/+/claim', topic) || topicMatches('sites/+/home/+/+/claim', topic)

export function canPublish (who: Principal, topic: string): boolean {
  // `$SYS/` is the broker's own [MQTT-4.7.2-1]; other `$` topics are an admin's.
  if (topic.startsWith('$')) return who.role === 'admin' && topic !== '$SYS' && !topic.startsWith('$SYS/')
  switch (who.role) {
    case 'admin': return true
    case 'service':
      return /^(home|household|shop|notify|homeassistant)\//.test(topic)
    case 'device':
      // Not the claim: who handles a fact is for people to say, and the broker checks it as theirs.
      // A device bound to a member is that person's button: it claims for them, on its things only.
      if (topic.endsWith('/claim')) return who.member !== undefined && topicMatches('home/+/+/claim', topic) && ownsThing(who, topic)
      return (topic.startsWith('homeassistant/') && topic !== HA_STATUS_TOPIC) || ownsThing(who, topic)
    case 'member':
      return (who.member !== undefined && topic.startsWith(`household/${who.member}/`)) || isClaimTopic(topic)
    case 'responder':
      return (who.member !== undefined && (topic.startsWith(`household/${who.member}/fact/`) || topicMatches(`notify/${who.member}/fact/+`, topic))) ||
        isClaimTopic(topic)
    case 'shop': return false
    case 'nodered':
      return topicMatches('flows/+/fact/+', topic) || isClaimTopic(topic)
    case 'estate':
      return topic.startsWith('sites/') || topicMatches('home/+/+/claim', topic)
    case 'orders':
    case 'customers':
    case 'notifications':
      return SHOP_GRANTS[who.role].publish.some((p) => topicMatches(p, topic))
    case 'homeassistant': return topic === HA_STATUS_TOPIC
  }
}

const SHARED = /^\$share\/[^/+#]+\/(.+)$/

export function canSubscribe (who: Principal, clientId: string, filter: string): boolean {
  // A shared subscription, `$share/<group>/<filter>`, is allowed as its filter is.
  const shared = SHARED.exec(filter)
  if (shared) return canSubscribe(who, clientId, shared[1]!)
  if (filter === deadletterTopic(clientId)) return true
  switch (who.role) {
    case 'admin': return true
    case 'service': return true
    case 'device':
      return filter === HUB_STATE_TOPIC || filter === 'homeassistant/status' || ownsThing(who, filter)
    case 'member':
    case 'responder':
      return filter === HUB_STATE_TOPIC || /^(home|household|sites)(\/|$)/.test(filter) ||
        (who.member !== undefined && (filter === `notify/${who.member}/#` || filter.startsWith(`notify/${who.member}/`)))
    case 'shop': return /^shop(\/|$)/.test(filter)
    case 'nodered': return filter === HUB_STATE_TOPIC || /^(home|household|flows|shop|sites)(\/|$)/.test(filter)
    case 'homeassistant': return filter === HUB_STATE_TOPIC || /^(home|homeassistant|sites)(\/|$)/.test(filter)
    case 'estate': return /^(home|household)(\/|$)/.test(filter)
    case 'orders':
    case 'customers':
    case 'notifications': {
      // A granted filter as it is, or a plain topic inside one; never a wider filter.
      const grants: readonly string[] = SHOP_GRANTS[who.role].subscribe
      return grants.includes(filter) || (!/[+#]/.test(filter) && grants.some((p) => topicMatches(p, filter)))
    }
  }
}

/**
 * True when `topic` (or a filter) lies inside one of the device's `home/<area>/<thing>/` subtrees.
 * Read by index, with no split: it runs on every publish.
 */
function ownsThing (who: Principal, topic: string): boolean {
  if (!topic.startsWith('home/')) return false
  const areaEnd = topic.indexOf('/', 5)
  const thingEnd = areaEnd < 0 ? -1 : topic.indexOf('/', areaEnd + 1)
  // At least four levels: home/<area>/<thing>/<something>.
  if (thingEnd < 0) return false
  const area = topic.slice(5, areaEnd)
  const thing = topic.slice(areaEnd + 1, thingEnd)
  if (area === '+' || area === '#' || thing === '+' || thing === '#') return false
  for (const pattern of who.things ?? []) {
    // Patterns are "<area>/<thing>", either part "+" (checked when the users file is read).
    const slash = pattern.indexOf('/')
    const a = pattern.slice(0, slash)
    const t = pattern.slice(slash + 1)
    if ((a === '+' || a === area) && (t === '+' || t === thing)) return true
  }
  return false
}
