import { HUB_STATE_TOPIC, deadletterTopic, topicMatches } from '#contract'
import type { Principal } from './users.ts'

/** Home Assistant's birth and will topic (its MQTT integration's default). */
const HA_STATUS_TOPIC = 'homeassistant/status'

/** What each shop service may publish and subscribe to: topic patterns, least privilege. */
export const SHOP_GRANTS = Object.freeze({
  orders: { publish: ['shop/orders/+/fact/+'], subscribe: [] },
  customers: { publish: ['shop/customers/+/fact/+', 'shop/customers/+/profile'], subscribe: [] },
  notifications: { publish: ['notify/+/fact/+'], subscribe: ['shop/orders/+/fact/+', 'shop/customers/+/fact/+', 'shop/customers/+/profile'] }
} satisfies Record<string, { publish: string[], subscribe: string[] }>)

/** A claim on a thing of this house or of another house of the estate. */
const isClaimTopic = (topic: string): boolean => topicMatches('home/+/+/claim', topic) || topicMatches('sites/+/home/+/+/claim', topic)

/**
 * The ACL by role and topic pattern, pure functions of (principal, clientId, topic). Each role's
 * grants, and why, are in docs/broker.md ("The ACL"); test/broker/acl-matrix.ts is the matrix.
 */
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
    // The Orders and Customers services own every shop subject; a clerk writes through them.
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

/** True when `topic` (or a filter) lies inside one of the device's `home/<area>/<thing>/` subtrees; read by index, as it runs on every publish. */
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
