import { HUB_STATE_TOPIC, deadletterTopic, topicMatches } from '#contract'
import type { Principal } from './users.ts'

/**
 * The ACL by role and topic pattern. Pure functions of (principal, clientId, topic).
 *
 * - admin: everything.
 * - service: reads everything; writes the house, the household, the shop and Home Assistant discovery.
 * - device: writes only its own `home/<area>/<thing>/` subtree and discovery; reads its subtree,
 *   `homeassistant/status` and the hub state.
 * - member (a phone): reads the house and household; writes claims and its own `household/<member>/` subtree.
 *
 * Everyone may read their own dead-letter topic, to learn why a publish was refused.
 */
export function canPublish (who: Principal, topic: string): boolean {
  if (topic.startsWith('$')) return false
  switch (who.role) {
    case 'admin': return true
    case 'service':
      return /^(home|household|shop|homeassistant)\//.test(topic)
    case 'device':
      return topic.startsWith('homeassistant/') || ownsThing(who, topic)
    case 'member':
      return (who.member !== undefined && topic.startsWith(`household/${who.member}/`)) ||
        topicMatches('home/+/+/claim', topic)
  }
}

export function canSubscribe (who: Principal, clientId: string, filter: string): boolean {
  if (filter === deadletterTopic(clientId)) return true
  switch (who.role) {
    case 'admin': return true
    case 'service': return true
    case 'device':
      return filter === HUB_STATE_TOPIC || filter === 'homeassistant/status' || ownsThing(who, filter)
    case 'member':
      return filter === HUB_STATE_TOPIC || /^(home|household)(\/|$)/.test(filter)
  }
}

/** True when `topic` (or a filter) lies inside one of the device's `home/<area>/<thing>/` subtrees. */
function ownsThing (who: Principal, topic: string): boolean {
  const p = topic.split('/')
  if (p[0] !== 'home' || p.length < 4) return false
  const [area, thing] = [p[1], p[2]]
  if (area === '+' || area === '#' || thing === '+' || thing === '#') return false
  return (who.things ?? []).some((pattern) => topicMatches(pattern, `${area}/${thing}`))
}
