// The live view of the house: MQTT over WebSocket as the logged-in member, so the broker's ACL
// and claim rules apply to the page as to any client.
import mqtt from 'mqtt'

const parse = (s) => { try { return JSON.parse(s) } catch { return null } }

/**
 * Mirrors what the member may see: each thing's retained state, availability and claim, each
 * member's presence, and this member's notification facts. `onChange` runs after each update.
 */
export class Live {
  things = new Map()
  presence = new Map()
  notices = []
  /** Offers to this member that still stand, by the id of the fact offered. */
  offers = new Map()
  /** Facts seen live, by id: the open-fact view needs no HTTP round trip for them. */
  facts = new Map()
  status = 'connecting'

  constructor (session, onChange) {
    this.session = session
    this.onChange = onChange
  }

  start () {
    const { mqtt: m, username, member } = this.session
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${m.path}`
    this.client = mqtt.connect(url, {
      protocolVersion: 5,
      clean: true,
      clientId: `phone-${username}-${Math.random().toString(36).slice(2, 10)}`,
      username: m.username,
      password: m.password,
      reconnectPeriod: 2000,
      connectTimeout: 10_000
    })
    this.client.on('connect', () => {
      this.#set('live')
      this.client.subscribe(['home/+/+/state', 'home/+/+/fact/+', 'home/+/+/availability', 'home/+/+/claim', 'household/+/presence', `notify/${member}/fact/+`], { qos: 1 })
    })
    this.client.on('reconnect', () => this.#set('connecting'))
    this.client.on('close', () => this.#set('offline'))
    this.client.on('message', (topic, payload) => this.#message(topic, payload.toString()))
  }

  /** A new token for the next (re)connect: the broker checks it only at CONNECT. */
  setToken (m) {
    this.session.mqtt = m
    if (this.client) this.client.options.password = m.password
  }

  stop () {
    this.client?.end(true)
  }

  #set (status) {
    if (this.status === status) return
    this.status = status
    this.onChange()
  }

  #thing (area, name) {
    const key = `${area}/${name}`
    let t = this.things.get(key)
    if (!t) {
      t = { key, area, name, state: null, availability: null, claim: null }
      this.things.set(key, t)
    }
    return t
  }

  #message (topic, text) {
    const p = topic.split('/')
    if (p[0] === 'home' && p.length === 4 && p[3] !== 'fact') {
      const t = this.#thing(p[1], p[2])
      if (p[3] === 'state') t.state = parse(text)
      else if (p[3] === 'availability') t.availability = text
      else if (p[3] === 'claim') t.claim = text === '' ? null : parse(text)
    } else if (p[0] === 'home' && p[3] === 'fact') {
      const fact = parse(text)
      if (fact?.id) this.facts.set(fact.id, { topic, fact })
      return
    } else if (p[0] === 'household' && p[2] === 'presence') {
      this.presence.set(p[1], text)
    } else if (p[0] === 'notify') {
      const fact = parse(text)
      if (fact?.type === 'household.offered') this.offers.set(fact.data.factId, fact)
      else if (fact?.type === 'household.offer-withdrawn') this.offers.delete(fact.data.factId)
      else if (fact?.id && !this.notices.some((n) => n.id === fact.id)) this.notices = [fact, ...this.notices].slice(0, 20)
    }
    this.onChange()
  }

  /** Publishes at QoS 1, retained; resolves with null or the broker's refusal (an MQTT 5 PUBACK reason ≥ 0x80). */
  publish (topic, payload) {
    return new Promise((resolve) => {
      this.client.publish(topic, payload, { qos: 1, retain: true }, (err) => resolve(err ?? null))
    })
  }
}
