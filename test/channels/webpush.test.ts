import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ChannelGoneError, WebPushChannel, loadOrCreateVapid, withRetry } from '../../services/lib/channels/index.ts'
import { PushReceiver, type ReceivedPush } from '../helpers/receivers/push-receiver.ts'
import { channelSuite, notice } from './channel-suite.ts'

const vapidIn = (dir: string) => loadOrCreateVapid(join(dir, 'vapid.json'), 'mailto:admin@house.test')

/** What a service worker that follows the payload's `kind` would show: notify shows, withdraw closes. */
function shownBy (pushes: ReceivedPush[]): { tag: string, title: string, message: string }[] {
  const shown = new Map<string, { tag: string, title: string, message: string }>()
  for (const p of pushes) {
    const { kind, tag, title, body } = p.payload as { kind: string, tag: string, title: string, body: string }
    if (kind === 'notify') shown.set(tag, { tag, title, message: body })
    else shown.delete(tag)
  }
  return [...shown.values()]
}

describe('the Web Push channel', () => {
  channelSuite('push', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homefacts-vapid-'))
    const r = new PushReceiver()
    await r.start()
    const subscription = r.subscription()
    const channel = new WebPushChannel({ subscription, vapid: vapidIn(dir), agent: r.agent! })
    return {
      channel,
      showing: () => shownBy(r.pushes),
      requests: (n) => r.next(() => r.pushes.length >= n),
      failNext: (n) => r.failNext(n),
      checkSend: async () => {
        expect(r.pushes[0]).toMatchObject({ headers: { ttl: '3600', urgency: 'high', topic: notice.fact.id }, vapid: { aud: r.origin, sub: 'mailto:admin@house.test' } })
        expect(r.pushes[0]!.payload).toStrictEqual({ kind: 'notify', tag: notice.fact.id, title: notice.title, body: notice.message, url: notice.click, priority: 'high' })
        expect(r.errors).toStrictEqual([])
      },
      checkWithdraw: async () => {
        expect(r.pushes[1]!.payload).toStrictEqual({ kind: 'withdraw', tag: notice.fact.id, title: `resolved: ${notice.title}`, body: 'home/kitchen/lily-cup is "full" now' })
        expect(r.pushes[1]!.headers).toStrictEqual({ ttl: '86400', urgency: 'low', topic: notice.fact.id })
      },
      close: async () => { await r.close(); rmSync(dir, { recursive: true, force: true }) }
    }
  })

  it('push: a subscription the push service calls gone (410) is ChannelGoneError, and is not retried', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homefacts-vapid-'))
    const r = new PushReceiver()
    await r.start()
    try {
      const subscription = r.subscription()
      r.gone(subscription.endpoint)
      let attempts = 0
      const channel = new WebPushChannel({ subscription, vapid: vapidIn(dir), agent: r.agent! })
      await expect(withRetry(() => { attempts++; return channel.send(notice) }, { attempts: 5, firstMs: 5 })).rejects.toBeInstanceOf(ChannelGoneError)
      expect(attempts).toBe(1)
    } finally {
      await r.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('push: a push encrypted for another subscription\'s keys cannot be read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homefacts-vapid-'))
    const r = new PushReceiver()
    await r.start()
    try {
      const mine = r.subscription()
      const other = r.subscription()
      const channel = new WebPushChannel({ subscription: { endpoint: mine.endpoint, keys: other.keys }, vapid: vapidIn(dir), agent: r.agent! })
      await expect(channel.send(notice)).rejects.toThrow(/400/)
      expect(r.pushes).toStrictEqual([])
      expect(r.errors).toHaveLength(1)
    } finally {
      await r.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('VAPID keys are made once, kept with mode 0600, and a broken file is an error rather than new keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'homefacts-vapid-'))
    try {
      const first = vapidIn(dir)
      expect(first.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/)
      expect(statSync(join(dir, 'vapid.json')).mode & 0o777).toBe(0o600)
      expect(vapidIn(dir)).toStrictEqual(first)
      writeFileSync(join(dir, 'vapid.json'), '{"publicKey":')
      expect(() => vapidIn(dir)).toThrow(/VAPID key file .*vapid\.json is unreadable .*delete it to make new keys/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
