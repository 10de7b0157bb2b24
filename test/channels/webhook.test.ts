import { describe, expect } from 'vitest'
import { WebhookChannel } from '../../services/lib/channels/index.ts'
import { WebhookReceiver } from '../helpers/receivers/webhook-receiver.ts'
import { channelSuite, notice } from './channel-suite.ts'

describe('the webhook channel', () => {
  channelSuite('webhook', async () => {
    const r = new WebhookReceiver()
    await r.start()
    const channel = new WebhookChannel(r.url)
    const body = { recipient: 'mummy', title: notice.title, message: notice.message, priority: 'high', fact: notice.fact, click: notice.click }
    return {
      channel,
      showing: () => r.showing().map((q) => ({ tag: q.body.fact.id, title: q.body.title as string, message: q.body.message as string })),
      requests: (n) => r.next(() => r.requests.length >= n),
      failNext: (n) => r.failNext(n),
      checkSend: async () => {
        expect(r.requests).toStrictEqual([{ key: notice.fact.id, body: { event: 'notify', ...body } }])
      },
      checkWithdraw: async () => {
        expect(r.requests[1]).toStrictEqual({ key: `${notice.fact.id}:withdraw`, body: { event: 'withdraw', ...body, reason: 'home/kitchen/lily-cup is "full" now' } })
      },
      close: () => r.close()
    }
  })
})
