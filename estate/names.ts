import { siteTopic, topicMatches } from '#contract'

/**
 * How the estate names things in NATS (docs/estate.md). Topic levels are kebab-case, so
 * they never hold a `.`: a topic maps to a NATS subject level for level, and back.
 */

/** The stream a house shares its facts on: its own, so only that house writes to it. */
export const streamOf = (site: string): string => `homefacts-${site}`
/** Subjects of a house's shared facts: `hf.facts.<site>.<topic levels>`. */
export const factSubjectsOf = (site: string): string => `hf.facts.${site}.>`
export const factSubjectOf = (site: string, topic: string): string => `hf.facts.${site}.${topic.replaceAll('/', '.')}`
/** The topic (in the owning house's terms) a fact subject carries. */
export const topicOfFactSubject = (site: string, subject: string): string => subject.slice(`hf.facts.${site}.`.length).replaceAll('.', '/')

/** The key-value bucket of a house's retained states, claims, availability and presence: one key per topic. */
export const retainedBucketOf = (site: string): string => `homefacts-${site}-retained`
export const keyOfTopic = (topic: string): string => topic.replaceAll('/', '.')
export const topicOfKey = (key: string): string => key.replaceAll('.', '/')

/** The bucket that says which house holds each site name. */
export const SITES_BUCKET = 'homefacts-sites'

/** Where the owning house answers claims on its things (core NATS request and reply). */
export const claimSubjectOf = (site: string): string => `hf.claims.${site}`

/** The durable consumer with which house `follower` reads the stream of `site`. */
export const consumerOf = (follower: string, site: string): string => `${follower}-follows-${site}`

/** The cursor (in the ledger's own database) of the last offset the stream acknowledged. */
export const OUTBOX_CURSOR = 'estate-outbox'

/**
 * True when `topic` matches one of the filters. A filter that names a subject (`home/+/front-door`)
 * also matches everything under it (its facts, state, claim and availability).
 */
export const matchesAny = (filters: readonly string[], topic: string): boolean =>
  filters.some((f) => topicMatches(f, topic) || (!f.endsWith('#') && topicMatches(`${f}/#`, topic)))

/** A topic of `site` as this house sees it: `sites/<site>/<topic>`. */
export const mirroredTopic = (site: string, topic: string): string => siteTopic(site, topic)

/**
 * Who holds a claim, as the owning house names them: its own members by name, a member of
 * another house as `<site>/<member>`.
 */
export const byAtOwner = (fromSite: string, by: string): string => `${fromSite}/${by}`

/** Who holds a claim, as this house (`mySite`) names them, from the owner's name for them. */
export function byHere (ownerSite: string, mySite: string, by: string): string {
  if (by.startsWith(`${mySite}/`)) return by.slice(mySite.length + 1)
  return by.includes('/') ? by : `${ownerSite}/${by}`
}
