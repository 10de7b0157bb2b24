import mqttPacket from 'mqtt-packet'

/**
 * Turns off mqtt-packet's number cache, for aedes and mqtt.js alike (one encoder per process).
 *
 * With it on (mqtt-packet's default), the first packet a process writes makes a Buffer for each
 * of the 65,536 two-byte numbers a packet may carry (message ids, lengths): about 10 MB of RSS
 * that an idle hub keeps (docs/benchmarks.md). Off, each number gets a 2-byte buffer of its own.
 */
export function noMqttNumberCache (): void {
  mqttPacket.writeToStream.cacheNumbers = false
}
