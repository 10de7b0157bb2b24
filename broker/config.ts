import { z } from 'zod'

const port = z.number().int().min(0).max(65535)
const host = z.string().min(1)

/** The broker's part of the hub config. Every key is documented in the README. */
export const BrokerConfig = z.strictObject({
  mqtt: z.strictObject({
    host: host.default('0.0.0.0').describe('Address the MQTT TCP listener binds'),
    port: port.default(1883).describe('MQTT TCP port (0 picks a free one)')
  }).prefault({}).describe('The MQTT TCP listener'),
  mqtts: z.strictObject({
    enabled: z.boolean().default(true).describe('MQTT over TLS, with the certificate the hub serves over HTTPS (its own CA\'s, or https.cert)'),
    host: host.default('0.0.0.0').describe('Address the MQTT TLS listener binds'),
    port: port.default(8883).describe('MQTT TLS port (0 picks a free one)')
  }).prefault({}).describe('The MQTT TLS listener (issue 13)'),
  ws: z.strictObject({
    enabled: z.boolean().default(true).describe('Serve MQTT over WebSocket on the HTTP port'),
    path: z.string().startsWith('/').default('/mqtt').describe('WebSocket path on the HTTP server')
  }).prefault({}).describe('MQTT over WebSocket'),
  anonymous: z.strictObject({
    port: port.optional().describe('Opt-in listener that lets clients in without credentials (tests only); off when unset'),
    host: host.default('127.0.0.1').describe('Address the anonymous listener binds'),
    role: z.enum(['admin', 'service', 'device', 'member']).default('admin').describe('Role given to anonymous clients')
  }).prefault({}).describe('The anonymous test listener'),
  heartbeatSeconds: z.number().int().min(1).default(60).describe('Broker heartbeat; wills of a dead broker go out after 4 beats'),
  statsSeconds: z.number().int().min(1).default(10).describe('How often $SYS stats are published'),
  drainTimeoutMs: z.number().int().min(0).default(30000).describe('Disconnect a client whose socket stays full this long')
}).describe('The embedded broker')

export type BrokerConfig = z.infer<typeof BrokerConfig>
