import { canPublish, canSubscribe } from '../../broker/acl.ts'
import { Role, type Principal } from '../../broker/index.ts'

/**
 * The ACL matrix: every role × every topic family × publish and subscribe, from this
 * one table. `acl-matrix.test.ts` checks the ACL against it, and the matrix in docs/broker.md ("The
 * ACL") is this table rendered, so neither can drift: change the ACL, the table and the doc together.
 *
 * Each principal speaks for `mummy` where it speaks for a member, and a device owns
 * `kitchen/lily-cup`; "own" and "other" topics are from that point of view. `P` publish, `S`
 * subscribe, `PS` both, `-` neither.
 */
export const FAMILIES = [
  ['own thing: state, fact, availability', ['home/kitchen/lily-cup/state', 'home/kitchen/lily-cup/fact/empty', 'home/kitchen/lily-cup/availability']],
  ['other thing: state', ['home/hall/front-door/state']],
  ['claim', ['home/kitchen/lily-cup/claim']],
  ['own presence', ['household/mummy/presence']],
  ['own household facts', ['household/mummy/fact/claimed']],
  ['other household member', ['household/daddy/presence']],
  ['shop orders', ['shop/orders/o-1/fact/created']],
  ['shop customers and profiles', ['shop/customers/c-7/fact/updated', 'shop/customers/c-7/profile']],
  ['own notifications', ['notify/mummy/fact/sent']],
  ['other notifications', ['notify/c-7/fact/sent']],
  ['flows', ['flows/door-away/fact/raised']],
  ['Home Assistant status', ['homeassistant/status']],
  ['Home Assistant discovery', ['homeassistant/device/homefacts-kitchen-lily-cup/config']],
  ['hub state', ['homefacts/hub/state']],
  ['another house: thing', ['sites/grandma/home/hall/front-door/state', 'sites/grandma/home/hall/front-door/fact/opened', 'sites/grandma/household/grandma/presence']],
  ['another house: claim', ['sites/grandma/home/hall/front-door/claim']]
] as const satisfies readonly (readonly [string, readonly string[]])[]

export type Cell = 'PS' | 'P' | 'S' | '-'

export const MATRIX: Record<Role, readonly Cell[]> = {
  // own thing, other thing, claim, own presence, own facts, other member, orders, customers, own notify, other notify, flows, HA status, HA discovery, hub state, another house's thing, its claim
  admin: ['PS', 'PS', 'PS', 'PS', 'PS', 'PS', 'PS', 'PS', 'PS', 'PS', 'PS', 'PS', 'PS', 'PS', 'PS', 'PS'],
  service: ['PS', 'PS', 'PS', 'PS', 'PS', 'PS', 'PS', 'PS', 'PS', 'PS', 'S', 'PS', 'PS', 'S', 'S', 'S'],
  device: ['PS', '-', 'S', '-', '-', '-', '-', '-', '-', '-', '-', 'S', 'P', 'S', '-', '-'],
  member: ['S', 'S', 'PS', 'PS', 'PS', 'S', '-', '-', 'S', '-', '-', '-', '-', 'S', 'S', 'PS'],
  responder: ['S', 'S', 'PS', 'S', 'PS', 'S', '-', '-', 'PS', '-', '-', '-', '-', 'S', 'S', 'PS'],
  shop: ['-', '-', '-', '-', '-', '-', 'S', 'S', '-', '-', '-', '-', '-', '-', '-', '-'],
  nodered: ['S', 'S', 'PS', 'S', 'S', 'S', 'S', 'S', '-', '-', 'PS', '-', '-', 'S', 'S', 'PS'],
  orders: ['-', '-', '-', '-', '-', '-', 'P', '-', '-', '-', '-', '-', '-', '-', '-', '-'],
  customers: ['-', '-', '-', '-', '-', '-', '-', 'P', '-', '-', '-', '-', '-', '-', '-', '-'],
  notifications: ['-', '-', '-', '-', '-', '-', 'S', 'S', 'P', 'P', '-', '-', '-', '-', '-', '-'],
  homeassistant: ['S', 'S', 'S', '-', '-', '-', '-', '-', '-', '-', '-', 'PS', 'S', 'S', 'S', 'S'],
  estate: ['S', 'S', 'PS', 'S', 'S', 'S', '-', '-', '-', '-', '-', '-', '-', '-', 'P', 'P']
}

const principal = (role: Role): Principal => ({
  username: `a-${role}`,
  role,
  ...(role === 'member' || role === 'responder' ? { member: 'mummy' } : {}),
  ...(role === 'device' ? { things: ['kitchen/lily-cup'] } : {}),
  ...(role === 'nodered' ? { members: ['mummy'] } : {})
})

/** What the ACL allows a role on a family: every topic of the family must agree. */
export function actual (role: Role, topics: readonly string[]): Cell {
  const who = principal(role)
  const pub = topics.map((t) => canPublish(who, t))
  const sub = topics.map((t) => canSubscribe(who, 'client-1', t))
  if (new Set(pub).size > 1 || new Set(sub).size > 1) return `mixed: publish ${pub.join('/')}, subscribe ${sub.join('/')}` as Cell
  return `${pub[0] ? 'P' : ''}${sub[0] ? 'S' : ''}` as Cell || '-'
}

/** The table in docs/broker.md, rendered from MATRIX. */
export function renderMatrix (): string {
  const head = `| role | ${FAMILIES.map(([name]) => name).join(' | ')} |`
  const rule = `|---|${FAMILIES.map(() => ':-:').join('|')}|`
  const rows = Role.options.map((role) => `| \`${role}\` | ${MATRIX[role].map((c) => c === '-' ? '–' : c).join(' | ')} |`)
  return [head, rule, ...rows].join('\n')
}


/** `npx tsx test/broker/acl-matrix.ts` prints the block for docs/broker.md. */
if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`<!-- acl-matrix -->\n${renderMatrix()}\n<!-- /acl-matrix -->\n`)
