import { z } from 'zod'
import { Codes, HomefactsError, SEGMENT } from '#contract'

/** MQTT topic filters, comma-separated, each under `home/` or `household/` (or `#`). */
const Filters = z.string().refine((s) => splitList(s).every(isShareable), 'must be MQTT topic filters under home/ or household/, comma-separated, e.g. "home/#,household/#"')

/**
 * The `estate` section of the hub config: the NATS servers, this house's site name,
 * its credentials, and what to share and what to follow. Every key is a scalar, so each has a
 * flag and an environment variable (`--estate-site`, `HOMEFACTS_ESTATE_SITE`); lists are
 * comma-separated. Without the section the hub is in no estate and runs as before.
 */
export const EstateConfig = z.strictObject({
  site: z.string().regex(SEGMENT, 'must be lower-case kebab-case, e.g. "grandma"').describe('This house\'s name in the estate (kebab-case); others see its things under sites/<site>/'),
  servers: z.string().min(1).refine((s) => splitList(s).every((u) => /^(nats|tls):\/\/[^\s,]+$/.test(u)), 'must be nats:// URLs, comma-separated').describe('The NATS servers of the estate, comma-separated, e.g. "nats://nas:4222,nats://pi:4222,nats://nuc:4222"'),
  user: z.string().min(1).optional().describe('This house\'s NATS user'),
  password: z.string().min(1).optional().describe('This house\'s NATS password'),
  share: Filters.default('home/#,household/#').describe('What this house shares: topic filters over its facts, states, claims, availability and presence, comma-separated'),
  follow: z.string().default('').refine((s) => splitList(s).every((f) => parseFollow(f) !== null), 'must be "<site>:<filter>" entries, comma-separated, e.g. "grandma:home/+/front-door/#,grandma:household/+/fact/+"')
    .describe('What this house follows from others: "<site>:<topic filter>" entries, comma-separated ("<site>" alone follows all it shares)'),
  replicas: z.number().int().min(1).max(5).default(3).describe('Replicas of this house\'s stream and buckets (3 on a 3-node cluster)'),
  maxAgeDays: z.number().positive().default(30).describe('How long the stream keeps a shared fact for a house that was away'),
  claimTimeoutMs: z.number().int().positive().default(2000).describe('How long a claim on another house\'s thing waits for that house to settle it before it is refused (HF_ESTATE_UNREACHABLE)')
}).describe('The estate: houses linked by NATS JetStream (docs/estate.md)')
export type EstateConfig = z.infer<typeof EstateConfig>

/** One followed site and the filters over its topics (in its own terms: `home/...`). */
export interface Follow { site: string, filters: string[] }

/** The estate section in the form the estate uses. */
export interface EstateSettings {
  site: string
  servers: string[]
  user?: string
  password?: string
  share: string[]
  follow: Follow[]
  replicas: number
  maxAgeMs: number
  claimTimeoutMs: number
}

function splitList (s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter((x) => x.length > 0)
}

function isShareable (filter: string): boolean {
  if (filter === '#') return true
  const levels = filter.split('/')
  if (levels[0] !== 'home' && levels[0] !== 'household') return false
  return levels.every((l, i) => l === '+' || (l === '#' && i === levels.length - 1) || SEGMENT.test(l))
}

function parseFollow (entry: string): { site: string, filter: string } | null {
  const [site, filter = '#', ...rest] = entry.split(':')
  if (rest.length > 0 || site === undefined || !SEGMENT.test(site) || !isShareable(filter)) return null
  return { site, filter }
}

/** Parses the section; throws `HF_CONFIG` for a house that follows itself. */
export function parseEstate (config: EstateConfig): EstateSettings {
  const follow = new Map<string, string[]>()
  for (const entry of splitList(config.follow)) {
    const f = parseFollow(entry)!
    if (f.site === config.site) throw new HomefactsError(Codes.CONFIG, `estate.follow names this house's own site "${f.site}"`)
    follow.set(f.site, [...follow.get(f.site) ?? [], f.filter])
  }
  return {
    site: config.site,
    servers: splitList(config.servers),
    ...(config.user !== undefined ? { user: config.user } : {}),
    ...(config.password !== undefined ? { password: config.password } : {}),
    share: splitList(config.share),
    follow: [...follow].map(([site, filters]) => ({ site, filters })),
    replicas: config.replicas,
    maxAgeMs: config.maxAgeDays * 86_400_000,
    claimTimeoutMs: config.claimTimeoutMs
  }
}
