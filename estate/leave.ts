import { Codes, HomefactsError } from '#contract'
import type { EstateSettings } from './config.ts'
import { openLink } from './link.ts'
import { consumerOf, retainedBucketOf, SITES_BUCKET, streamOf } from './names.ts'

/** What leaving removed, for the command to print. */
export interface Left { stream: boolean, bucket: boolean, consumers: string[], site: boolean }

/**
 * Takes this house out of the estate (`homefacts estate leave`): its stream and its bucket of
 * retained values, its consumers on the houses it followed, and its site name. Its own ledger
 * keeps every fact; the other houses keep what they already brought in. Run it with the hub
 * stopped, then remove the `estate` section.
 */
export async function leaveEstate (settings: EstateSettings, house: string | undefined): Promise<Left> {
  const link = await openLink(settings, new AbortController().signal)
  try {
    const sites = await link.kvm.open(SITES_BUCKET)
    const held = await sites.get(settings.site).catch(() => null)
    if (held?.operation === 'PUT' && held.json<{ house: string }>().house !== house) {
      throw new HomefactsError(Codes.ESTATE_REFUSED, `the site name "${settings.site}" is held by another house: nothing removed`)
    }
    const gone = (p: Promise<unknown>): Promise<boolean> => p.then(() => true, (err: unknown) => {
      if (/not found/i.test(String(err))) return false
      throw err
    })
    const stream = await gone(link.jsm.streams.delete(streamOf(settings.site)))
    const bucket = await gone(link.jsm.streams.delete(`KV_${retainedBucketOf(settings.site)}`))
    const consumers: string[] = []
    for (const f of settings.follow) {
      if (await gone(link.jsm.consumers.delete(streamOf(f.site), consumerOf(settings.site, f.site)))) consumers.push(consumerOf(settings.site, f.site))
    }
    const site = held?.operation === 'PUT' ? await gone(sites.purge(settings.site)) : false
    return { stream, bucket, consumers, site }
  } finally {
    await link.nc.close()
  }
}
