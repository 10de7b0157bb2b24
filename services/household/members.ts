import { Member, type HouseholdConfig } from './config.ts'

/** What the household needs of a hub user: its role and the member it speaks for. */
export interface UserLike {
  role: string
  member?: string | undefined
}

/**
 * The household as it is now, with no config file needed: every user with the `member`
 * role is a member with the defaults (a parent at home who decides on `cup.empty`), and the
 * `household` section only changes those defaults: a member it lists keeps its settings there.
 * Several logins for one member (two phones) are one member. Pure.
 */
export function householdOf (section: HouseholdConfig, users: readonly UserLike[]): HouseholdConfig {
  const listed = new Set(section.members.map((m) => m.name))
  const fromUsers = [...new Set(users.filter((u) => u.role === 'member' && u.member).map((u) => u.member!))]
    .filter((name) => !listed.has(name))
    .sort()
    .map((name) => Member.parse({ name }))
  if (fromUsers.length === 0) return section
  return { ...section, members: [...section.members, ...fromUsers] }
}

const byName = (h: HouseholdConfig): Map<string, Member> => new Map(h.members.map((m) => [m.name, m]))
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/** Everything but the members: policies, quiet hours, bounds. */
export function settingsOf (h: HouseholdConfig): Omit<HouseholdConfig, 'members'> {
  const { members: _members, ...rest } = h
  return rest
}

/** What changed between two households, one line each, for the log: `added member daddy`, ... Pure. */
export function changesBetween (before: HouseholdConfig, after: HouseholdConfig): string[] {
  const a = byName(before)
  const b = byName(after)
  const out: string[] = []
  for (const [name, m] of b) {
    const was = a.get(name)
    if (!was) out.push(`added member ${name} (${m.role})`)
    else if (!same(was, m)) out.push(`changed member ${name}`)
  }
  for (const name of a.keys()) if (!b.has(name)) out.push(`removed member ${name}`)
  const sa = settingsOf(before)
  const sb = settingsOf(after)
  for (const key of Object.keys(sb) as (keyof typeof sb)[]) {
    if (!same(sa[key], sb[key])) out.push(`changed ${key}`)
  }
  return out
}
