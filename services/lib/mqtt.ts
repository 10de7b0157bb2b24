import { connect as netConnect } from 'node:net'
import mqtt, { MqttClient, type IClientOptions } from 'mqtt'

/**
 * An mqtt.js client whose TCP socket has Nagle's algorithm off on every (re)connect, so a lone
 * publish goes out at once, not behind the broker's delayed ACK (40 ms). mqtt.js has no option
 * for it: the socket is made through its stream builder. Other URLs go to `mqtt.connect`.
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
