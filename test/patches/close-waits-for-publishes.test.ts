import { describe, expect, it } from 'vitest'
import AsyncMemory from 'aedes-persistence/asyncPersistence.js'
import type { AedesOptions } from 'aedes'
import { connect } from '../helpers/mqtt.ts'
import { gate, startAedes } from './plain-aedes.ts'

type Persistence = NonNullable<AedesOptions['persistence']>

/**
 * patches/aedes+2.0.0-beta.1+016+close-waits-for-publishes.patch: `close()` calls back once the
 * wills of the clients it closed, and the publishes under way, are written: a store closed in
 * that callback gets no write after it.
 */
describe('closing the broker (patched aedes)', () => {
  it('calls back only once the will of a client it closed is stored, retained', async () => {
    const reached = gate()
    const writes: string[] = []
    class Recording extends AsyncMemory {
      override async storeRetained (packet: Parameters<AsyncMemory['storeRetained']>[0]): Promise<void> {
        if (packet.topic === 'dev/status') {
          reached.open()
          // A store that takes a while, as one on disk does.
          await new Promise((resolve) => setTimeout(resolve, 50))
          writes.push(`retained ${packet.topic} ${packet.payload.toString()}`)
        }
        return super.storeRetained(packet)
      }
    }
    const a = await startAedes({ persistence: new Recording() as unknown as Persistence })
    await connect(a.url, { clientId: 'dev', will: { topic: 'dev/status', payload: Buffer.from('offline'), qos: 1, retain: true } })
    const closed = new Promise<void>((resolve) => a.broker.close(() => { writes.push('closed'); resolve() }))
    await reached.wait
    await closed
    expect(writes).toStrictEqual(['retained dev/status offline', 'closed'])
    await a.close()
  })
})
