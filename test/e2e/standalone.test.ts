import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startWorld, decidedBy, decisionOf, type World } from '../household/world.ts'

const BIN = new URL('../../bin/homefacts.js', import.meta.url).pathname

describe('homefacts service household --broker', () => {
  let w: World
  beforeEach(async () => { w = await startWorld() })
  afterEach(async () => { await w.stop() })

  it('runs the responders alone against a broker, each as its own MQTT user', async () => {
    await w.t.addUser({ username: 'household-mummy', role: 'service', password: 'kitchen-pw' })
    const file = join(w.t.dir, 'standalone.json')
    writeFileSync(file, JSON.stringify({ log: { level: 'silent' }, household: { members: [{ name: 'mummy' }], policies: { 'cup.empty': { auto: ['mummy'] } } } }))
    // A broker that does not retain a default presence: her phone has retained it.
    await w.presence('mummy', 'home')
    // Ready when the member's persistent session has subscribed to its facts.
    const subscribed = new Promise<void>((resolve) => {
      w.t.hub.broker.aedes.on('subscribe', (subs, client) => {
        if (client?.id === 'household-mummy' && subs.some((x) => x.topic === 'home/+/+/fact/empty')) resolve()
      })
    })
    const proc = spawn(process.execPath, [BIN, 'service', 'household', '--broker', w.t.mqttUrl, '--password', 'kitchen-pw', '--config', file], { stdio: ['ignore', 'inherit', 'inherit'] })
    try {
      await subscribed
      const empty = await w.newCup().empty()
      const [decided] = await w.wire.wait(decidedBy('mummy', empty.id))
      expect(decisionOf(JSON.parse(decided!.payload))).toMatchObject({ member: 'mummy', decision: 'claim', reason: 'open' })
      await w.wire.wait((m) => m.topic === 'home/kitchen/lily-cup/claim' && m.payload.includes(empty.id))
    } finally {
      proc.kill('SIGTERM')
      await new Promise((resolve) => proc.once('exit', resolve))
    }
  }, 30_000)
})
