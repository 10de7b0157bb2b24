import { connect as netConnect, type Socket } from 'node:net'
import mqttPacket from 'mqtt-packet'

/** A decoded MQTT packet, loosely typed: the fields a test reads. */
export type RawPacket = { cmd: string, topic?: string, qos?: number, messageId?: number, [field: string]: unknown }

/** A client made of raw MQTT packets (mqtt-packet), which acknowledges nothing by itself. */
export async function rawConnect (url: string, connectPacket: RawPacket): Promise<{ socket: Socket, received: RawPacket[], send: (p: RawPacket) => void, next: (test: (p: RawPacket) => boolean) => Promise<RawPacket>, publishes: () => string[] }> {
  const { hostname, port } = new URL(url)
  const socket = netConnect(Number(port), hostname)
  const protocolVersion = (connectPacket.protocolVersion as number | undefined) ?? 5
  const parser = mqttPacket.parser({ protocolVersion })
  const received: RawPacket[] = []
  const waiters: { test: (p: RawPacket) => boolean, resolve: (p: RawPacket) => void }[] = []
  parser.on('packet', (packet) => {
    received.push(packet as unknown as RawPacket)
    for (const w of waiters.splice(0)) {
      if (w.test(packet as unknown as RawPacket)) w.resolve(packet as unknown as RawPacket)
      else waiters.push(w)
    }
  })
  socket.on('data', (data) => parser.parse(data))
  // A broker that closes on a client still writing resets it: that is an answer, not a failure.
  socket.on('error', () => {})
  const send = (p: RawPacket): void => { socket.write(mqttPacket.generate(p as unknown as mqttPacket.Packet, { protocolVersion })) }
  /** Resolves with the first packet, already received or still to come, that passes `test`. */
  const next = (test: (p: RawPacket) => boolean): Promise<RawPacket> => {
    const seen = received.find(test)
    return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ test, resolve }))
  }
  const publishes = (): string[] => received.filter((p) => p.cmd === 'publish').map((p) => `${p.topic}@${p.qos}`)
  send(connectPacket)
  await next((p) => p.cmd === 'connack')
  return { socket, received, send, next, publishes }
}

