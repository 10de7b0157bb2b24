import mqttPacket from 'mqtt-packet'

/**
 * Turns off mqtt-packet's number cache, for aedes and mqtt.js alike (one encoder per process).
 *
 * With it on (mqtt-packet's default), the first packet a process writes makes a Buffer for each
 * of the 65,536 two-byte numbers a packet may carry (message ids, lengths): 6 MB of V8 heap, and
 * 10 MB of the hub's RSS at idle (docs/footprint.md). Off, each number is written from a 2-byte
 * buffer made for it, which the bench's fan-ins and latency runs did not find slower.
 */
export function noMqttNumberCache (): void {
  mqttPacket.writeToStream.cacheNumbers = false
}
