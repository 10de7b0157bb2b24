import { describe, expect, it } from 'vitest'
import { connect, Inbox } from '../helpers/mqtt.ts'
import { startAedes } from './plain-aedes.ts'

/**
 * patches/aedes+2.0.0-beta.1+014+dollar-topics-retained.patch: a retained message on a topic that
 * starts with `$` is not sent to a subscription whose filter starts with a wildcard [MQTT-4.7.2-1].
 */
describe('retained $ topics (patched aedes)', () => {
  it('sends retained $ topics only to a filter that starts with $, never to # or +', async () => {
    const a = await startAedes()
    const pub = await connect(a.url)
    // Clients may not publish on $SYS; the broker does (as aedes-stats does, retained).
    await new Promise<void>((resolve, reject) => a.broker.publish({ cmd: 'publish', topic: '$SYS/x/uptime', payload: Buffer.from('1'), qos: 1, retain: true, dup: false }, (err) => err ? reject(err) : resolve()))
    await pub.publishAsync('$Topic/B', 'dollar', { qos: 1, retain: true })
    await pub.publishAsync('plain/topic', '2', { qos: 1, retain: true })
    const wild = await connect(a.url)
    const wildInbox = new Inbox(wild)
    await wild.subscribeAsync(['#', '+/x/uptime', '+/B'], { qos: 1 })
    const sys = await connect(a.url)
    const sysInbox = new Inbox(sys)
    await sys.subscribeAsync(['$SYS/#', '$Topic/+', '#'], { qos: 1 })
    await sysInbox.wait('$SYS/x/uptime')
    await sysInbox.wait('$Topic/B')
    await sysInbox.wait('plain/topic')
    // A sentinel after the retained ones, on a topic both subscribe to: anything retained for `wild` came before it.
    await pub.publishAsync('plain/last', '3', { qos: 1 })
    await wildInbox.wait('plain/last')
    expect(wildInbox.messages.map((m) => m.topic)).toStrictEqual(['plain/topic', 'plain/last'])
    await Promise.all([pub.endAsync(), wild.endAsync(), sys.endAsync()])
  })
})
