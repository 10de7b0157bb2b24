import { describe, expect, it } from 'vitest'
import { canPublish, canSubscribe } from '../../broker/acl.ts'
import type { Principal } from '../../broker/index.ts'

const device: Principal = { username: 'cup', role: 'device', things: ['kitchen/lily-cup', 'garden/+'] }
const member: Principal = { username: 'mum', role: 'member', member: 'mummy' }
const service: Principal = { username: 'svc', role: 'service' }
const responder: Principal = { username: 'household-daddy', role: 'responder', member: 'daddy' }

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
    [responder, 'shop/orders/1/fact/created', false]
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
    [responder, 'shop/#', false]
  ])('%o subscribing to %s: %s', (who, filter, allowed) => {
    expect(canSubscribe(who, 'cup-1', filter)).toBe(allowed)
  })
})
