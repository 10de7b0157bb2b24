import { availabilityTopic, stateTopic } from '#contract'
import { Kinds, stateValue, type Kind } from './kinds.ts'

/** Home Assistant's birth topic: it publishes `online` there when it (re)starts. */
export const HA_STATUS_TOPIC = 'homeassistant/status'

/** The id a thing has in Home Assistant: stable, and unique per area and thing. */
export const discoveryId = (area: string, thing: string): string => `homefacts-${area}-${thing}`

/** `homeassistant/device/<id>/config`: the retained device discovery topic. */
export const discoveryTopic = (area: string, thing: string): string => `homeassistant/device/${discoveryId(area, thing)}/config`

const title = (s: string): string => s.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase())

/**
 * The Home Assistant device discovery payload for a thing: one device with one component that
 * reads the retained `home/<area>/<thing>/state` and the device's availability topic. The whole
 * state object (`seq`, `since`, `factId`) becomes the entity's attributes.
 */
export function discoveryPayload (kind: Kind, area: string, thing: string, name?: string): Record<string, unknown> {
  const id = discoveryId(area, thing)
  const def = Kinds[kind]
  const state = stateTopic(area, thing)
  const low = stateValue(kind, 'low')
  const high = stateValue(kind, 'high')
  const component = def.ha.platform === 'sensor'
    ? { platform: 'sensor', device_class: 'enum', options: [low, high] }
    : { platform: 'binary_sensor', device_class: def.ha.deviceClass, payload_on: high, payload_off: low }
  return {
    device: { identifiers: [id], name: name ?? title(thing), manufacturer: 'homefacts', model: title(kind), suggested_area: title(area) },
    origin: { name: 'homefacts' },
    components: {
      [`${id}-state`]: {
        ...component,
        unique_id: `${id}-state`,
        name: null,
        state_topic: state,
        value_template: '{{ value_json.value }}',
        json_attributes_topic: state
      }
    },
    availability_topic: availabilityTopic(area, thing),
    payload_available: 'online',
    payload_not_available: 'offline',
    qos: 1
  }
}
