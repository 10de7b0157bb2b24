import { z } from 'zod'

const port = z.number().int().min(0).max(65535)
const host = z.string().min(1)

/** The broker's part of the hub config (docs/configuration.md). */
export const BrokerConfig = z.strictObject({
  mqtt: z.strictObject({
    host: host.default('0.0.0.0').describe('Address the MQTT TCP listener binds'),
    port: port.default(1883).describe('MQTT TCP port (0 picks a free one)')
  }).prefault({}).describe('The MQTT TCP listener'),
  mqtts: z.strictObject({
    enabled: z.boolean().default(true).describe('MQTT over TLS, with the certificate the hub serves over HTTPS (its own CA\'s, or https.cert)'),
    host: host.default('0.0.0.0').describe('Address the MQTT TLS listener binds'),
    port: port.default(8883).describe('MQTT TLS port (0 picks a free one)')
  }).prefault({}).describe('The MQTT TLS listener'),
  ws: z.strictObject({
    enabled: z.boolean().default(true).describe('Serve MQTT over WebSocket on the HTTP port'),
    path: z.string().startsWith('/').default('/mqtt').describe('WebSocket path on the HTTP server')
  }).prefault({}).describe('MQTT over WebSocket'),
  anonymous: z.strictObject({
    port: port.optional().describe('Opt-in listener that lets clients in without credentials (tests only); off when unset'),
    host: host.default('127.0.0.1').describe('Address the anonymous listener binds'),
    role: z.enum(['admin', 'service', 'device', 'member']).default('admin').describe('Role given to anonymous clients')
  }).prefault({}).describe('The anonymous test listener'),
  limits: z.strictObject({
    maxPayloadBytes: z.number().int().min(1024).default(1_048_576).describe('Largest PUBLISH payload a client may send: a bigger one is dead-lettered with HF_TOO_LARGE (PUBACK 0x97 on MQTT 5); a packet more than 64 KiB past it closes the connection as it arrives (DISCONNECT 0x95). MQTT 5 clients are told the packet limit in CONNACK'),
    publishesPerSecond: z.number().positive().default(5000).describe('Publishes per second one client may keep up: over it a publish is dead-lettered with HF_RATE (PUBACK 0x97 on MQTT 5), and a client refused a whole burst in a row is disconnected (DISCONNECT 0x96)'),
    publishBurst: z.number().int().min(1).default(20000).describe('Publishes one client may send at once before publishesPerSecond applies'),
    connectionsPerUser: z.number().int().min(1).default(64).describe('Connections one user may hold at once; one more is refused (CONNACK 0x97 quota exceeded; 3 on MQTT 3.1.1)'),
    loginFailures: z.number().int().min(1).default(5).describe('Failed MQTT logins per user name or per address before further attempts must wait (1 s, doubling)'),
    loginWindowSeconds: z.number().int().min(1).default(300).describe('How long failed MQTT logins are remembered, and the longest wait'),
    receiveMaximum: z.number().int().min(1).max(65535).default(1024).describe('QoS 1 and 2 publishes an MQTT 5 client may have unanswered at once (told in CONNACK); one more disconnects it (DISCONNECT 0x93, Receive Maximum exceeded)'),
    liveQueueBytes: z.number().int().min(65536).default(8_388_608).describe('Bytes a connected subscriber may have waiting unsent; past it, QoS 0 messages to it are dropped and it is disconnected (a persistent session\'s QoS 1 messages stay queued in the store)')
  }).prefault({}).describe('What one client may cost the broker'),
  heartbeatSeconds: z.number().int().min(1).default(60).describe('Broker heartbeat; wills of a dead broker go out after 4 beats'),
  statsSeconds: z.number().int().min(1).default(10).describe('How often $SYS stats are published'),
  drainTimeoutMs: z.number().int().min(0).default(30000).describe('Disconnect a client whose socket stays full this long')
}).describe('The embedded broker')

export type BrokerConfig = z.infer<typeof BrokerConfig>
