import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { configKeys } from '../../services/hub/config.ts'
import { COMMAND, CONFIG_DOC, configDoc } from '../../scripts/config-doc.ts'

describe('docs/configuration.md', () => {
  it('is what the generator writes from the config schema', () => {
    expect(readFileSync(CONFIG_DOC, 'utf8'), `docs/configuration.md is out of date: run ${COMMAND}`).toBe(configDoc())
  })

  it('names every key the hub takes a flag for, with its environment variable and flag', () => {
    const doc = configDoc()
    const missing = configKeys().filter((k) => !doc.includes(`| \`${k.key}\` | \`${k.env}\` | \`${k.flag}\` |`)).map((k) => k.key)
    expect(missing).toStrictEqual([])
  })

  it('shows the error the hub really prints for a bad variable and a bad flag', () => {
    expect(configDoc()).toContain([
      'homefacts: invalid config:',
      '  mqtt.port: Invalid input: expected number, received string (from environment variable HOMEFACTS_MQTT_PORT)',
      '  http.port: Too big: expected number to be <=65535 (from flag --http-port)'
    ].join('\n'))
  })
})
