import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { LogChannel, WebhookChannel } from '../../services/notifications/index.ts'
import { channelContract, notice } from './channel-contract.ts'
import { Receiver } from './shop.ts'

describe('notification channels', () => {
  channelContract('log', async () => {
    const lines: unknown[] = []
    const log = pino({ level: 'info' }, { write: (l: string) => { lines.push(JSON.parse(l)) } })
    return { channel: new LogChannel(log), delivered: () => lines, stop: async () => {} }
  })

  channelContract('webhook', async () => {
    const receiver = new Receiver()
    const url = await receiver.start()
    return { channel: new WebhookChannel(url), delivered: () => receiver.got, stop: () => receiver.stop() }
  })

  it('webhook: sends the fact id as the Idempotency-Key, and the contact in the body', async () => {
    const receiver = new Receiver()
    const url = await receiver.start()
    const channel = new WebhookChannel(url)
    await channel.send(notice)
    expect(channel.address).toBe(url)
    expect(receiver.got).toStrictEqual([{
      key: '01KB0000000000000000000000',
      body: { event: 'notify', recipient: 'c-7', title: 'Your order o-1', message: notice.message, priority: 'normal', to: { name: 'Ann', phone: '+44 7700 900123' }, fact: notice.fact }
    }])
    await receiver.stop()
  })

  it('webhook: a receiver that is not there is a failure, so the consumer tries again', async () => {
    const receiver = new Receiver()
    const url = await receiver.start()
    await receiver.stop()
    await expect(new WebhookChannel(url, 1000).send(notice)).rejects.toThrow()
  })
})
