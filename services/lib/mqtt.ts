import { connect as netConnect } from 'node:net'
import mqtt, { MqttClient, type IClientOptions } from 'mqtt'

/**
 * An mqtt.js client whose TCP socket has Nagle's algorithm off (TCP_NODELAY), on every
 * (re)connect: a lone publish waiting for its PUBACK goes out at once, not behind the broker's
 * delayed ACK of the one before (40 ms). mqtt.js has no option for it, so the socket is made
 * here, through its stream builder; other URLs (TLS, WebSocket) go to `mqtt.connect` as they are.
 */
export function connectMqtt (url: string, opts: IClientOptions = {}): MqttClient {
  const u = new URL(url)
  if (u.protocol !== 'mqtt:' && u.protocol !== 'tcp:') return mqtt.connect(url, opts)
  const host = u.hostname
  const port = Number(u.port || 1883)
  return new MqttClient(() => netConnect({ host, port, noDelay: true }), { protocol: 'mqtt', host, port, ...opts })
}

/** `connectMqtt`, resolved at the first CONNACK, rejected (and ended) at the first error. */
export function connectMqttAsync (url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  const client = connectMqtt(url, opts)
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      client.off('connect', onConnect)
      client.end(true)
      reject(err)
    }
    const onConnect = (): void => {
      client.off('error', onError)
      resolve(client)
    }
    client.once('connect', onConnect)
    client.once('error', onError)
  })
}
