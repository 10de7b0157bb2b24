import { join, resolve } from 'node:path'
import type { ShopContext } from './context.ts'
import { HttpProducer, type ProducerOptions } from './producer.ts'

/**
 * A shop service that takes requests over HTTP, as the hub (or a test) gives it its context: the
 * `<name>` config section, `<name>.sqlite` in the data folder, the MQTT user and role `<name>`.
 */
export function shopProducer<N extends 'orders' | 'customers'> (
  name: N,
  ctx: ShopContext<Record<N, { host: string, port: number }>>,
  build: ProducerOptions['build'],
  extra: Pick<ProducerOptions, 'protocolVersion'> = {}
): HttpProducer {
  return new HttpProducer({
    name,
    dbFile: join(resolve(ctx.config.dataDir), `${name}.sqlite`),
    proxySecret: ctx.proxySecret,
    mqttUrl: ctx.mqttUrl,
    credentials: () => ctx.credentials(name, { role: name }),
    log: ctx.log,
    host: ctx.config[name].host,
    port: ctx.config[name].port,
    portKey: `${name}.port`,
    build,
    ...extra
  })
}
