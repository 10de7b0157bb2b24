import { expect, it } from 'vitest'
import type { Channel } from '../../services/notifications/channels.ts'
import type { Notice } from '../../services/notifications/core.ts'

export const notice: Notice = {
  recipient: 'c-7',
  message: 'Ann, we have your order o-1 (3.00 EUR)',
  contact: { customerId: 'c-7', name: 'Ann', phone: '+44 7700 900123', seq: 1 },
  fact: { id: '01KB0000000000000000000000', type: 'order.created', subject: 'shop/orders/o-1' }
}

/** The suite every notification channel passes (one suite per interface). */
export function channelContract (name: string, make: () => Promise<{ channel: Channel, delivered: () => unknown[], stop: () => Promise<void> }>): void {
  it(`${name}: hands a notice over and says where it went`, async () => {
    const { channel, delivered, stop } = await make()
    const { address } = await channel.send(notice)
    expect(typeof address).toBe('string')
    expect(address.length).toBeGreaterThan(0)
    expect(delivered()).toHaveLength(1)
    await stop()
  })

  it(`${name}: can be given the same notice twice (a redelivery after a crash) and hands it on with the same key`, async () => {
    const { channel, delivered, stop } = await make()
    await channel.send(notice)
    await channel.send(notice)
    expect(delivered()).toHaveLength(2)
    await stop()
  })
}
