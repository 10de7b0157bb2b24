import { describe, expect, it } from 'vitest'
import { checkPublish, Codes, HomefactsError, parseTopic } from '#contract'
import { ClaimBook } from '../../broker/claims.ts'
import { loadConfig } from '../../services/hub/config.ts'
import { parseEstate } from '../../estate/config.ts'
import { byHere, factSubjectOf, matchesAny, topicOfFactSubject } from '../../estate/names.ts'
import { doorFact } from './houses.ts'

describe('the contract reads another house\'s topics', () => {
  it('parses sites/<site>/home/... as the house\'s own topic, with the site and a prefixed subject', () => {
    expect(parseTopic('sites/grandma/home/hall/front-door/fact/opened')).toStrictEqual({ kind: 'fact', subject: 'sites/grandma/home/hall/front-door', name: 'opened', area: 'hall', thing: 'front-door', site: 'grandma' })
    expect(parseTopic('sites/grandma/home/hall/front-door/claim')).toStrictEqual({ kind: 'claim', subject: 'sites/grandma/home/hall/front-door', area: 'hall', thing: 'front-door', site: 'grandma' })
    expect(parseTopic('sites/grandma/household/grandma/presence')).toStrictEqual({ kind: 'presence', subject: 'sites/grandma/household/grandma', member: 'grandma', site: 'grandma' })
  })

  it('refuses what the estate never shares: the shop, notifications, a house within a house, a bad site name', () => {
    for (const topic of ['sites/grandma/shop/orders/o-1/fact/created', 'sites/grandma/notify/mummy/fact/sent', 'sites/a/sites/b/home/x/y/state', 'sites/Grandma/home/x/y/state', 'sites/grandma']) {
      expect([topic, parseTopic(topic)]).toStrictEqual([topic, null])
    }
  })

  it('checks a mirrored fact like any fact: its subject must be the prefixed one', () => {
    const fact = doorFact(1)
    const mirrored = { ...fact, subject: 'sites/grandma/home/hall/front-door' }
    expect(checkPublish({ topic: 'sites/grandma/home/hall/front-door/fact/opened', payload: JSON.stringify(mirrored) }).kind).toBe('fact')
    const unprefixed = (): unknown => checkPublish({ topic: 'sites/grandma/home/hall/front-door/fact/opened', payload: JSON.stringify(fact) })
    expect(unprefixed).toThrow(HomefactsError)
    try { unprefixed() } catch (err) { expect((err as HomefactsError).code).toBe(Codes.SUBJECT_MISMATCH) }
  })
})

describe('the claim rules and the estate', () => {
  const estate = { username: 'homefacts-estate', role: 'estate' as const }
  const fact = doorFact(1)
  const state = { value: 'open', seq: 1, since: fact.time, factId: fact.id }
  const at = new Date().toISOString()

  it('lets the estate claim on this house\'s things only for another house\'s member, and clear only such a claim', () => {
    const book = new ClaimBook()
    book.publishState('home/hall/front-door', state)
    expect(book.publishClaim(estate, 'home/hall/front-door', { factId: fact.id, by: 'neighbour', at })?.code).toBe(Codes.NOT_AUTHORIZED)
    expect(book.publishClaim(estate, 'home/hall/front-door', { factId: fact.id, by: 'family/mummy', at })).toBeNull()
    expect(book.publishClaim({ username: 'neighbour', role: 'member', member: 'neighbour' }, 'home/hall/front-door', { factId: fact.id, by: 'neighbour', at })?.code).toBe(Codes.CLAIMED)
    expect(book.publishClaim(estate, 'home/hall/front-door', null)).toBeNull()
    book.publishClaim({ username: 'neighbour', role: 'member', member: 'neighbour' }, 'home/hall/front-door', { factId: fact.id, by: 'neighbour', at })
    expect(book.publishClaim(estate, 'home/hall/front-door', null)?.code).toBe(Codes.NOT_HOLDER)
  })

  it('records what the estate mirrors of another house\'s claims as that house settled them', () => {
    const book = new ClaimBook()
    expect(book.publishClaim(estate, 'sites/grandma/home/hall/front-door', { factId: fact.id, by: 'grandma/neighbour', at })).toBeNull()
    expect(book.claim('sites/grandma/home/hall/front-door')?.by).toBe('grandma/neighbour')
  })
})

describe('the estate\'s names and config', () => {
  it('maps a topic to a NATS subject level for level, and back', () => {
    expect(factSubjectOf('grandma', 'home/hall/front-door/fact/opened')).toBe('hf.facts.grandma.home.hall.front-door.fact.opened')
    expect(topicOfFactSubject('grandma', 'hf.facts.grandma.home.hall.front-door.fact.opened')).toBe('home/hall/front-door/fact/opened')
  })

  it('follows everything under a filter that names a subject', () => {
    expect(matchesAny(['home/+/front-door'], 'home/hall/front-door/fact/opened')).toBe(true)
    expect(matchesAny(['home/+/front-door'], 'home/hall/back-door/fact/opened')).toBe(false)
    expect(matchesAny(['household/+/fact/+'], 'household/grandma/fact/decided')).toBe(true)
    expect(matchesAny(['home/#', 'household/#'], 'sites/family/home/x/y/fact/opened')).toBe(false)
  })

  it('names a claim\'s holder as the house that shows it does', () => {
    expect(byHere('grandma', 'family', 'neighbour')).toBe('grandma/neighbour')
    expect(byHere('grandma', 'family', 'family/mummy')).toBe('mummy')
    expect(byHere('grandma', 'family', 'aunt/ann')).toBe('aunt/ann')
  })

  it('reads the section from flags, lists comma-separated, and refuses a house that follows itself', () => {
    const config = loadConfig({ env: { HOMEFACTS_ESTATE_SITE: 'family' }, flags: { 'estate.servers': 'nats://a:4222, nats://b:4222', 'estate.follow': 'grandma:home/+/front-door,grandma:household/+/fact/+,aunt' } })
    expect(parseEstate(config.estate!)).toStrictEqual({
      site: 'family',
      servers: ['nats://a:4222', 'nats://b:4222'],
      share: ['home/#', 'household/#'],
      follow: [{ site: 'grandma', filters: ['home/+/front-door', 'household/+/fact/+'] }, { site: 'aunt', filters: ['#'] }],
      replicas: 3,
      maxAgeMs: 30 * 86_400_000,
      claimTimeoutMs: 2000
    })
    expect(() => parseEstate(loadConfig({ env: {}, flags: { 'estate.site': 'family', 'estate.servers': 'nats://a:4222', 'estate.follow': 'family' } }).estate!)).toThrow(/follows|own site/)
    expect(loadConfig({ env: {} }).estate).toBeUndefined()
  })

  it('refuses a bad site name or server list with HF_CONFIG naming the key', () => {
    try {
      loadConfig({ env: {}, flags: { 'estate.site': 'Grandma', 'estate.servers': 'http://x' } })
      expect.unreachable()
    } catch (err) {
      expect((err as HomefactsError).code).toBe(Codes.CONFIG)
      expect((err as HomefactsError).issues.map((i) => i.path)).toStrictEqual(['estate.site', 'estate.servers'])
    }
  })
})
