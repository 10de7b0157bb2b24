import mqttPacket from 'mqtt-packet'

/**
 * Turns off mqtt-packet's number cache, for aedes and mqtt.js alike (one encoder per process): on,
 * it makes a Buffer for each of the 65,536 two-byte numbers, about 10 MB of idle RSS (docs/benchmarks.md).
 */
export function noMqttNumberCache (): void {
  mqttPacket.writeToStream.cacheNumbers = false
}
