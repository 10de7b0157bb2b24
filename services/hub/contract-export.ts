import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { registry, factName, Envelope, ThingState, Claim, Availability, Presence, CustomerProfile, DeadLetter, DEADLETTER_PREFIX, HUB_STATE_TOPIC, type FactType } from '#contract'

const json = (schema: z.ZodType): Record<string, unknown> => z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>

/** Where each fact type is published, by the root of its subject. */
function factChannel (type: string): { address: string, parameters: string[] } {
  const name = factName(type)
  if (type.startsWith('order.')) return { address: `shop/orders/{orderId}/fact/${name}`, parameters: ['orderId'] }
  if (type.startsWith('customer.')) return { address: `shop/customers/{customerId}/fact/${name}`, parameters: ['customerId'] }
  if (type.startsWith('notification.')) return { address: `notify/{recipient}/fact/${name}`, parameters: ['recipient'] }
  if (type.startsWith('household.')) return { address: `household/{member}/fact/${name}`, parameters: ['member'] }
  if (type.startsWith('alert.')) return { address: `flows/{flow}/fact/${name}`, parameters: ['flow'] }
  return { address: `home/{area}/{thing}/fact/${name}`, parameters: ['area', 'thing'] }
}

/** Writes the contract as AsyncAPI 3.0 and one JSON Schema per payload, from the zod schemas; returns the files. */
export function exportContract (outDir: string): string[] {
  mkdirSync(join(outDir, 'schemas'), { recursive: true })
  const files: string[] = []
  const write = (name: string, value: unknown): void => {
    const path = join(outDir, name)
    writeFileSync(path, JSON.stringify(value, null, 2) + '\n')
    files.push(path)
  }
  const param = (description: string) => ({ description })
  const params: Record<string, { description: string }> = {
    area: param('Area of the house, kebab-case'),
    thing: param('Thing in the area, kebab-case'),
    member: param('Household member, kebab-case'),
    orderId: param('Order id'),
    customerId: param('Customer id'),
    recipient: param('Who a notification is for (a customer id or a member), kebab-case'),
    clientId: param('The client whose publish was refused')
  }
  const channels: Record<string, unknown> = {}
  const messages: Record<string, unknown> = {}
  const operations: Record<string, unknown> = {}
  const addChannel = (id: string, address: string, parameters: string[], message: string, payload: Record<string, unknown>, description: string, retained: boolean, fact?: string): void => {
    messages[message] = fact
      ? {
          name: message,
          contentType: 'application/cloudevents+json',
          payload,
          description: `${description}. The broker adds MQTT 5 properties from the validated envelope: user properties \`type\` ("${fact}") and \`id\`, content type application/cloudevents+json, payload format indicator 1 (UTF-8); the payload is the full CloudEvent.`,
          headers: {
            type: 'object',
            description: 'MQTT 5 user properties the broker sets on every accepted fact',
            properties: { type: { const: fact }, id: { type: 'string', description: 'The fact id (a ULID)' } },
            required: ['type', 'id']
          },
          bindings: { mqtt: { contentType: 'application/cloudevents+json', payloadFormatIndicator: 1, bindingVersion: '0.2.0' } }
        }
      : { name: message, contentType: 'application/json', payload, description }
    channels[id] = {
      address,
      description: `${description}${retained ? ' (retained)' : ' (never retained)'}`,
      messages: { [message]: { $ref: `#/components/messages/${message}` } },
      ...(parameters.length ? { parameters: Object.fromEntries(parameters.map((p) => [p, params[p]])) } : {})
    }
    operations[`publish-${id}`] = { action: 'send', channel: { $ref: `#/channels/${id}` } }
    operations[`receive-${id}`] = { action: 'receive', channel: { $ref: `#/channels/${id}` } }
  }
  const envelope = json(Envelope)
  write('schemas/envelope.json', envelope)
  for (const type of Object.keys(registry) as FactType[]) {
    const data = json(registry[type].Schema)
    write(`schemas/${type}.json`, data)
    const payload = { ...envelope, properties: { ...(envelope.properties as object), type: { const: type }, data } }
    const { address, parameters } = factChannel(type)
    addChannel(`fact-${type}`, address, parameters, type, payload, `Fact ${type}: ${registry[type].Schema.description ?? ''}`.trim(), false, type)
  }
  const states: [string, string, string[], z.ZodType, string][] = [
    ['state', 'home/{area}/{thing}/state', ['area', 'thing'], ThingState, 'Current state of a thing'],
    ['claim', 'home/{area}/{thing}/claim', ['area', 'thing'], Claim, 'Who handles the open fact; empty when resolved'],
    ['availability', 'home/{area}/{thing}/availability', ['area', 'thing'], Availability, 'Device availability (its will sets offline)'],
    ['presence', 'household/{member}/presence', ['member'], Presence, 'Whether a member is home, away or busy'],
    ['profile', 'shop/customers/{customerId}/profile', ['customerId'], CustomerProfile, 'Latest customer profile']
  ]
  for (const [id, address, parameters, schema, description] of states) {
    const payload = json(schema)
    write(`schemas/${id}.json`, payload)
    addChannel(id, address, parameters, id, payload, description, true)
  }
  addChannel('deadletter', `${DEADLETTER_PREFIX}{clientId}`, ['clientId'], 'deadletter', json(DeadLetter), 'Publishes the broker refused, with the reason', false)
  addChannel('hub-state', HUB_STATE_TOPIC, [], 'hub-state', json(Availability), 'Hub availability', true)
  write('asyncapi.json', {
    asyncapi: '3.0.0',
    info: { title: 'homefacts', version: '1.0.0', description: 'Facts and retained state on the homefacts MQTT broker. Facts are CloudEvents 1.0 (structured JSON).' },
    defaultContentType: 'application/json',
    servers: { hub: { host: 'localhost:1883', protocol: 'mqtt', protocolVersion: '5', description: 'The embedded homefacts broker' } },
    channels,
    operations,
    components: { messages }
  })
  return files
}
