import { describe, expect, it } from 'vitest'
import { checkPublish, flowFactTopic, isContractTopic, parseTopic } from '#contract'
import { makeFact } from '#client'
import { canPublish, canSubscribe } from '../../broker/acl.ts'
import type { Principal } from '../../broker/index.ts'

const nodered: Principal = { username: 'nodered', role: 'nodered', members: ['mummy'] }

describe('the derived-facts topic family', () => {
  it('parses flows/<flow>/fact/<name> as a fact whose subject is the flow', () => {
    expect(flowFactTopic('door-away', 'raised')).toBe('flows/door-away/fact/raised')
    expect(parseTopic('flows/door-away/fact/raised')).toStrictEqual({ kind: 'fact', subject: 'flows/door-away', name: 'raised', flow: 'door-away' })
    expect(parseTopic('flows/door-away/state')).toBeNull()
    expect(isContractTopic('flows/door-away/fact/raised')).toBe(true)
  })

  it('checks an alert.raised published there against the contract', () => {
    const fact = makeFact('alert.raised', { subject: 'flows/door-away', source: 'flows/door-away', seq: 1, data: { reason: 'door-opened-while-away', severity: 'warning', detail: 'the door opened' } })
    expect(checkPublish({ topic: 'flows/door-away/fact/raised', payload: JSON.stringify(fact) }).kind).toBe('fact')
    expect(() => checkPublish({ topic: 'flows/other/fact/raised', payload: JSON.stringify(fact) })).toThrow(expect.objectContaining({ code: 'HF_SUBJECT_MISMATCH' }))
    expect(() => checkPublish({ topic: 'flows/door-away/fact/raised', payload: JSON.stringify({ ...fact, data: { reason: 'x' } }) })).toThrow(expect.objectContaining({ code: 'HF_DATA' }))
  })
})

describe('the nodered role', () => {
  it.each([
    ['flows/door-away/fact/raised', true],
    ['home/hall/front-door/claim', true],
    ['home/hall/front-door/state', false],
    ['home/hall/front-door/fact/opened', false],
    ['household/mummy/presence', false],
    ['shop/orders/o-1/fact/created', false]
  ])('publishes %s: %s', (topic, allowed) => {
    expect(canPublish(nodered, topic)).toBe(allowed)
  })

  it.each([
    ['home/#', true],
    ['household/+/presence', true],
    ['shop/orders/+/fact/created', true],
    ['flows/+/fact/+', true],
    ['homefacts/hub/state', true],
    ['$SYS/#', false],
    ['#', false]
  ])('subscribes to %s: %s', (filter, allowed) => {
    expect(canSubscribe(nodered, 'homefacts-nodered', filter)).toBe(allowed)
  })
})
