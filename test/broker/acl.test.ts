import { describe, expect, it } from 'vitest'
import { canPublish, canSubscribe } from '../../broker/acl.ts'
import type { Principal } from '../../broker/index.ts'

const device: Principal = { username: 'cup', role: 'device', things: ['kitchen/lily-cup', 'garden/+'] }
const member: Principal = { username: 'mum', role: 'member', member: 'mummy' }
const service: Principal = { username: 'svc', role: 'service' }
const responder: Principal = { username: 'household-daddy', role: 'responder', member: 'daddy' }
const orders: Principal = { username: 'orders', role: 'orders' }
const customers: Principal = { username: 'customers', role: 'customers' }
const notifications: Principal = { username: 'notifications', role: 'notifications' }

describe('the ACL', () => {
  it.each([
    [device, 'home/kitchen/lily-cup/fact/empty', true],
    [device, 'home/kitchen/lily-cup/state', true],
    [device, 'home/garden/hose/availability', true],
    [device, 'home/kitchen/other-cup/state', false],
    [device, 'homeassistant/device/kitchen-lily-cup/config', true],
    [device, 'household/mummy/presence', false],
    [member, 'household/mummy/presence', true],
    [member, 'household/daddy/presence', false],
    [member, 'home/kitchen/lily-cup/claim', true],
    [member, 'home/kitchen/lily-cup/state', false],
    [service, 'shop/orders/1/fact/created', true],
    [service, 'homefacts/hub/state', false],
    [service, '$SYS/x', false],
    [responder, 'household/daddy/fact/decided', true],
    [responder, 'household/daddy/fact/escalated', true],
    [responder, 'household/mummy/fact/decided', false],
    [responder, 'household/daddy/presence', false],
    [responder, 'home/kitchen/lily-cup/claim', true],
    [responder, 'home/kitchen/lily-cup/state', false],
    [responder, 'home/kitchen/lily-cup/fact/empty', false],
    [responder, 'shop/orders/1/fact/created', false],
    [orders, 'shop/orders/01jdx/fact/created', true],
    [orders, 'shop/orders/01jdx/fact/paid', true],
    [orders, 'shop/orders/01jdx/state', false],
    [orders, 'shop/customers/7/fact/updated', false],
    [orders, 'shop/customers/7/profile', false],
    [orders, 'notify/7/fact/sent', false],
    [orders, 'home/kitchen/lily-cup/state', false],
    [customers, 'shop/customers/7/fact/created', true],
    [customers, 'shop/customers/7/fact/updated', true],
    [customers, 'shop/customers/7/profile', true],
    [customers, 'shop/orders/01jdx/fact/created', false],
    [customers, 'notify/7/fact/sent', false],
    [customers, 'household/mummy/presence', false],
    [notifications, 'notify/7/fact/sent', true],
    [notifications, 'notify/7/state', false],
    [notifications, 'shop/orders/01jdx/fact/created', false],
    [notifications, 'shop/customers/7/profile', false],
    [notifications, 'home/kitchen/lily-cup/claim', false]
  ])('%o publishing on %s: %s', (who, topic, allowed) => {
    expect(canPublish(who, topic)).toBe(allowed)
  })

  it.each([
    [device, 'home/kitchen/lily-cup/#', true],
    [device, 'home/+/lily-cup/state', false],
    [device, 'homeassistant/status', true],
    [device, 'homefacts/deadletter/cup-1', true],
    [device, 'homefacts/deadletter/other', false],
    [member, 'home/#', true],
    [member, 'household/+/presence', true],
    [member, 'shop/#', false],
    [member, '#', false],
    [service, '#', true],
    [responder, 'home/+/+/state', true],
    [responder, 'household/+/presence', true],
    [responder, 'shop/#', false],
    [orders, 'homefacts/deadletter/cup-1', true],
    [orders, 'shop/#', false],
    [orders, 'shop/orders/+/fact/+', false],
    [customers, 'shop/customers/+/fact/+', false],
    [customers, '#', false],
    [notifications, 'shop/orders/+/fact/+', true],
    [notifications, 'shop/customers/+/fact/+', true],
    [notifications, 'shop/customers/+/profile', true],
    [notifications, 'shop/customers/7/profile', true],
    [notifications, 'shop/#', false],
    [notifications, 'shop/+/+/fact/+', false],
    [notifications, 'home/#', false],
    [notifications, 'notify/#', false],
    [notifications, 'homefacts/deadletter/cup-1', true]
  ])('%o subscribing to %s: %s', (who, filter, allowed) => {
    expect(canSubscribe(who, 'cup-1', filter)).toBe(allowed)
  })
})
