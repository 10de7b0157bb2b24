import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { HouseholdConfig } from '../../services/household/config.ts'
import { householdService } from '../../services/household/index.ts'
import { PhonesConfig, phonesService } from '../../services/phones/index.ts'
import { NtfyReceiver } from '../helpers/receivers/ntfy-receiver.ts'
import { connect } from '../helpers/mqtt.ts'
import { startNatsCluster, type NatsCluster } from '../helpers/nats.ts'
import { doorFact, linked, publishDoor, startHouse, USERS, type House } from './houses.ts'

describe('phones at the family\'s house and grandma\'s facts', () => {
  let cluster: NatsCluster
  let grandma: House
  let family: House
  let ntfy: NtfyReceiver
  let device: MqttClient

  beforeAll(async () => {
    ntfy = new NtfyReceiver()
    await ntfy.start()
    cluster = await startNatsCluster(USERS)
    grandma = await startHouse(cluster, 'grandma')
    // Mummy responds to doors; nobody's role may claim them, so an open door is offered to her phone.
    const household = HouseholdConfig.parse({
      members: [{ name: 'mummy', respondsTo: ['door.opened'], phones: [{ kind: 'ntfy', address: `${ntfy.url}/mummy-phone` }] }],
      policies: { 'door.opened': { mayClaim: ['nobody'], escalation: [{ afterSeconds: 0.3, priority: 'high' }] } }
    })
    family = await startHouse(cluster, 'family', {
      follow: 'grandma:home/+/front-door',
      services: [householdService, phonesService],
      file: { household, phones: PhonesConfig.parse({ retryFirstMs: 50, evidenceTimeoutMs: 300 }) }
    })
    await Promise.all([linked(grandma), linked(family)])
    device = await connect(grandma.anonymousUrl, { clientId: 'grandma-door' })
  }, 60_000)

  afterAll(async () => {
    await device?.endAsync()
    await family?.stop()
    await grandma?.stop()
    await cluster?.close()
    await ntfy?.close()
  })

  it('offers a member grandma\'s open front door on her phone, the site\'s name in the text', async () => {
    const opened = doorFact(1)
    await publishDoor(device, opened)
    const phone = await ntfy.next((r) => r.topic === 'mummy-phone' && r.sequenceId === opened.id, 15_000)
    expect(phone).toMatchObject({ method: 'POST', topic: 'mummy-phone', sequenceId: opened.id, title: 'door opened: hall/front-door at grandma', click: `/#/trace/${opened.id}` })
  }, 30_000)
})
