import { describe, expect } from 'vitest'
import { NtfyChannel } from '../../services/lib/channels/index.ts'
import { NtfyReceiver } from '../helpers/receivers/ntfy-receiver.ts'
import { channelSuite, notice } from './channel-suite.ts'

describe('the ntfy channel', () => {
  channelSuite('ntfy', async () => {
    const r = new NtfyReceiver({ token: 'tk_house' })
    await r.start()
    const channel = new NtfyChannel({ url: `${r.url}/mummy-phone`, token: 'tk_house' })
    return {
      channel,
      showing: () => r.showing('mummy-phone').map((m) => ({ tag: m.sequenceId!, title: m.title!, message: m.message })),
      requests: (n) => r.next(() => r.requests.length >= n),
      failNext: (n) => r.failNext(n),
      checkSend: async () => {
        expect(r.requests[0]).toStrictEqual({
          method: 'POST', topic: 'mummy-phone', sequenceId: notice.fact.id, title: notice.title, message: notice.message,
          priority: 4, tags: ['cup.empty', 'warning'], click: notice.click, authorization: 'Bearer tk_house'
        })
        expect(r.errors).toStrictEqual([])
      },
      checkWithdraw: async () => {
        expect(r.requests.map((q) => [q.method, q.sequenceId])).toStrictEqual([['POST', notice.fact.id], ['DELETE', notice.fact.id]])
        expect(r.errors).toStrictEqual([])
      },
      close: () => r.close()
    }
  })
})
