import { describe, expect, it } from 'vitest'
import { connect } from '../helpers/mqtt.ts'
import { rawConnect } from '../helpers/raw-mqtt.ts'
import { startAedes } from './plain-aedes.ts'

/**
 * patches/aedes+2.0.0-beta.1+013+subscription-identifiers.patch: the one copy a client gets of a
 * message that matches several of its subscriptions carries the Subscription Identifiers of all
 * of them [MQTT-3.3.4-3], [MQTT-3.3.4-4].
 */
describe('Subscription Identifiers (patched aedes)', () => {
  it('sends one copy carrying every matching identifier, whichever subscription delivers it, and drops an identifier with its subscription', async () => {
    const a = await startAedes()
    const c = await rawConnect(a.url, { cmd: 'connect', protocolVersion: 5, clientId: 'ids', clean: true, keepalive: 0 })
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'si/#', qos: 1 }], properties: { subscriptionIdentifier: 2 } })
    c.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'si/+', qos: 1 }], properties: { subscriptionIdentifier: 3 } })
    // One with no identifier: its copy would be the one delivered for si/x if it came first.
    c.send({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'si/x', qos: 1 }] })
    await c.next((p) => p.cmd === 'suback' && p.messageId === 3)
    const pub = await connect(a.url, { protocolVersion: 5 })
    await pub.publishAsync('si/x', 'both', { qos: 1 })
    await pub.publishAsync('si/x/y', 'only #', { qos: 1 })
    await c.next((p) => p.topic === 'si/x/y')
    const copies = c.received.filter((p) => p.cmd === 'publish')
    expect(copies.map((p) => [p.topic, (p.properties as { subscriptionIdentifier?: unknown } | undefined)?.subscriptionIdentifier])).toStrictEqual([['si/x', [2, 3]], ['si/x/y', 2]])
    c.send({ cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['si/#'] })
    await c.next((p) => p.cmd === 'unsuback')
    await pub.publishAsync('si/z', 'one left', { qos: 1 })
    const last = await c.next((p) => p.topic === 'si/z')
    expect((last.properties as { subscriptionIdentifier?: unknown }).subscriptionIdentifier).toBe(3)
    c.socket.destroy()
    await pub.endAsync()
  })
})
