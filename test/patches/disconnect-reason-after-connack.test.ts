import { describe, expect, it } from 'vitest'
import AsyncMemory from 'aedes-persistence/asyncPersistence.js'
import type { AedesOptions } from 'aedes'
import mqttPacket from 'mqtt-packet'
import { rawConnect } from '../helpers/raw-mqtt.ts'
import { gate, startAedes } from './plain-aedes.ts'

type Persistence = NonNullable<AedesOptions['persistence']>

/**
 * patches/aedes+2.0.0-beta.1+008+disconnect-reason-after-connack.patch: once its CONNACK is out,
 * an MQTT 5 client is told why it is disconnected, even while the connect's last steps (resending
 * the session's queue) still run.
 */
describe('a DISCONNECT reason while the connect finishes (patched aedes)', () => {
  it('tells a client that sends a packet past the Maximum Packet Size right after CONNACK why it is closed: DISCONNECT 0x95 [MQTT-3.2.2-15]', async () => {
    const replayed = gate()
    class SlowQueue extends AsyncMemory {
      override outgoingStream (client: Parameters<AsyncMemory['outgoingStream']>[0]): ReturnType<AsyncMemory['outgoingStream']> {
        const queue = super.outgoingStream(client)
        return (async function * () {
          await replayed.wait
          yield * queue
        })() as unknown as ReturnType<AsyncMemory['outgoingStream']>
      }
    }
    const a = await startAedes({ persistence: new SlowQueue() as unknown as Persistence, maximumPacketSize: 4096 })
    const raw = await rawConnect(a.url, { cmd: 'connect', protocolVersion: 5, clientId: 'big', clean: true, keepalive: 0 })
    const big = mqttPacket.generate({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(100_000), qos: 1, messageId: 1, retain: false, dup: false }, { protocolVersion: 5 })
    // Only the first KiB: it is refused from its header (a close on a client still writing resets the connection).
    raw.socket.write(big.subarray(0, 1024))
    expect(await raw.next((p) => p.cmd === 'disconnect')).toMatchObject({ reasonCode: 0x95 })
    replayed.open()
    raw.socket.destroy()
  })
})
