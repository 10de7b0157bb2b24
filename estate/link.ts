import { AuthorizationError, connect, type NatsConnection } from '@nats-io/transport-node'
import { jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream'
import { Kvm, type KV } from '@nats-io/kv'
import { Codes, HomefactsError } from '#contract'
import type { EstateSettings } from './config.ts'
import { factSubjectsOf, retainedBucketOf, SITES_BUCKET, streamOf } from './names.ts'

/** A house's live link to the estate: one NATS connection and its JetStream handles. */
export interface Link {
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
  kvm: Kvm
}

/** How long the stream remembers a `Nats-Msg-Id`, to drop a resent fact: a resend after longer is dropped by the follower's ledger. */
const DUPLICATE_WINDOW_NS = 10 * 60 * 1e9

/**
 * Connects to the estate's NATS servers, once (the caller tries again while none answers: a house
 * that starts while the cluster is down runs alone until it comes); once linked, it reconnects
 * for ever. A wrong credential is `HF_ESTATE_REFUSED`: it will not get better by trying again.
 */
export async function openLink (settings: EstateSettings, signal: AbortSignal): Promise<Link> {
  let nc: NatsConnection
  try {
    nc = await connect({
      servers: settings.servers,
      name: `homefacts-${settings.site}`,
      ...(settings.user !== undefined ? { user: settings.user } : {}),
      ...(settings.password !== undefined ? { pass: settings.password } : {}),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      timeout: 2000
    })
  } catch (err) {
    if (err instanceof AuthorizationError || /authoriz/i.test(String(err))) {
      throw new HomefactsError(Codes.ESTATE_REFUSED, `the NATS servers refused this house's credential (estate.user "${settings.user ?? ''}"): ${(err as Error).message}`)
    }
    throw err
  }
  if (signal.aborted) {
    await nc.close()
    throw signal.reason as Error
  }
  const js = jetstream(nc, { timeout: 5000 })
  return { nc, js, jsm: await jetstreamManager(nc, { timeout: 5000 }), kvm: new Kvm(js) }
}

/** What a house keeps in the sites bucket under its site name. */
interface SiteEntry { house: string, joinedAt: string }

/**
 * Takes the site name for this house, or finds it already ours: `create` on the sites bucket is a
 * compare-and-swap, so two houses that ask for one name at once get one answer each. A name held
 * by another house is `HF_ESTATE_REFUSED`.
 */
export async function claimSite (link: Link, settings: EstateSettings, house: string): Promise<void> {
  const sites = await link.kvm.create(SITES_BUCKET, { replicas: settings.replicas, history: 1 })
  const mine: SiteEntry = { house, joinedAt: new Date().toISOString() }
  try {
    await sites.create(settings.site, JSON.stringify(mine))
    return
  } catch (err) {
    const held = await sites.get(settings.site)
    if (!held || held.operation !== 'PUT') throw err
    const entry = held.json<SiteEntry>()
    if (entry.house === house) return
    throw new HomefactsError(Codes.ESTATE_REFUSED, `the site name "${settings.site}" is taken by another house (joined ${entry.joinedAt}); choose another estate.site`)
  }
}

/** Creates (or brings up to date) this house's stream: file storage, `replicas` copies, its facts kept `maxAgeMs`. */
export async function ensureStream (link: Link, settings: EstateSettings): Promise<void> {
  const config = {
    name: streamOf(settings.site),
    subjects: [factSubjectsOf(settings.site)],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    num_replicas: settings.replicas,
    max_age: settings.maxAgeMs * 1e6,
    duplicate_window: DUPLICATE_WINDOW_NS
  }
  try {
    await link.jsm.streams.info(config.name)
    await link.jsm.streams.update(config.name, config)
  } catch (err) {
    if (!/not found/i.test(String(err))) throw err
    await link.jsm.streams.add(config)
  }
}

/** This house's bucket of retained values: the last value of each topic it shares. */
export function retainedBucket (link: Link, settings: EstateSettings): Promise<KV> {
  return link.kvm.create(retainedBucketOf(settings.site), { replicas: settings.replicas, history: 1 })
}
