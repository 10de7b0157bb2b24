import { expect, it } from 'vitest'
import { ChannelGoneError, withRetry, type Channel, type Notice } from '../../services/lib/channels/index.ts'

export const notice: Notice = {
  recipient: 'mummy',
  title: 'cup empty: kitchen/lily-cup',
  message: 'nobody claimed cup.empty on home/kitchen/lily-cup within 60 s',
  priority: 'high',
  fact: { id: '01KB0000000000000000000000', type: 'cup.empty', subject: 'home/kitchen/lily-cup' },
  click: '/#/trace/01KB0000000000000000000000'
}

/** What the person's phone shows for a notice, in the channel's own terms, reduced to one shape. */
export interface Shown { tag: string, title: string, message: string }

export interface ChannelSetup {
  channel: Channel
  /** What the phone shows now. */
  showing: () => Shown[]
  /** Resolves once the receiver has taken `n` requests in all. */
  requests: (n: number) => Promise<unknown>
  failNext: (n: number) => void
  /** What the receiver got for the first send, checked exactly per channel. */
  checkSend: () => Promise<void>
  /** What the receiver got for a withdraw, checked exactly per channel. */
  checkWithdraw: () => Promise<void>
  close: () => Promise<void>
}

/** One suite, run against every channel with its real local receiver (STYLE.md 9). */
export function channelSuite (name: string, setup: () => Promise<ChannelSetup>): void {
  it(`${name}: a sent notice shows with its title and message, under the fact id`, async () => {
    const s = await setup()
    try {
      await s.channel.send(notice)
      await s.checkSend()
      expect(s.showing()).toStrictEqual([{ tag: notice.fact.id, title: notice.title, message: notice.message }])
    } finally { await s.close() }
  })

  it(`${name}: the same notice sent twice (a redelivery after a crash) shows once`, async () => {
    const s = await setup()
    try {
      await s.channel.send(notice)
      await s.channel.send(notice)
      await s.requests(2)
      expect(s.showing()).toStrictEqual([{ tag: notice.fact.id, title: notice.title, message: notice.message }])
    } finally { await s.close() }
  })

  it(`${name}: a withdraw after a send leaves nothing showing`, async () => {
    const s = await setup()
    try {
      await s.channel.send(notice)
      await s.channel.withdraw(notice, 'home/kitchen/lily-cup is "full" now')
      await s.checkWithdraw()
      expect(s.showing()).toStrictEqual([])
    } finally { await s.close() }
  })

  it(`${name}: withdrawing a notice that was never sent does not fail`, async () => {
    const s = await setup()
    try {
      await s.channel.withdraw(notice, 'resolved')
      expect(s.showing()).toStrictEqual([])
    } finally { await s.close() }
  })

  it(`${name}: a receiver that fails makes send throw, and withRetry gets it through once it recovers`, async () => {
    const s = await setup()
    try {
      s.failNext(1)
      await expect(s.channel.send(notice)).rejects.toThrow(/5\d\d/)
      s.failNext(2)
      const retries: number[] = []
      await withRetry(() => s.channel.send(notice), { attempts: 5, firstMs: 10, onRetry: (f) => retries.push(f.attemptNumber) })
      expect(retries).toStrictEqual([1, 2])
      expect(s.showing()).toHaveLength(1)
    } finally { await s.close() }
  })

  it(`${name}: withRetry gives up after its attempts`, async () => {
    const s = await setup()
    try {
      s.failNext(10)
      let attempts = 0
      await expect(withRetry(() => { attempts++; return s.channel.send(notice) }, { attempts: 3, firstMs: 5 })).rejects.toThrow()
      expect(attempts).toBe(3)
      expect(s.showing()).toStrictEqual([])
    } finally { await s.close() }
  })
}

export { ChannelGoneError }
