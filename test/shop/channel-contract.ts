import { expect, it } from 'vitest'
import type { Channel, Notice } from '../../services/lib/channels/index.ts'

export const notice: Notice = {
  recipient: 'c-7',
  title: 'Your order o-1',
  message: 'Ann, we have your order o-1 (3.00 EUR)',
  priority: 'normal',
  to: { name: 'Ann', phone: '+44 7700 900123' },
  fact: { id: '01KB0000000000000000000000', type: 'order.created', subject: 'shop/orders/o-1' }
}

/** What the shop's Notifications needs of a channel (the phones' channels have their own suite, test/channels). */
export function channelContract (name: string, make: () => Promise<{ channel: Channel, delivered: () => unknown[], stop: () => Promise<void> }>): void {
  it(`${name}: hands a notice over and says where it goes`, async () => {
    const { channel, delivered, stop } = await make()
    await channel.send(notice)
    expect(channel.address.length).toBeGreaterThan(0)
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
