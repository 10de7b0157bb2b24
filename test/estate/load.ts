import type { MqttClient } from 'mqtt'
import { type Fact } from '#contract'
import { makeFact } from '#client'

/** A stream of facts published at a steady rate, in order, on one connection. */
export interface Stream {
  /** Every fact published so far, in publish order. */
  facts: Fact[]
  /** Resolves once all are published and acknowledged. */
  done: Promise<void>
}

/**
 * Publishes `count` motion facts about `home/<area>/motion-<k>` (`things` sensors in turn) at
 * `perSecond`, QoS 1, without waiting for each PUBACK: ticks of 10 ms, each publishing what is due.
 */
export function publishStream (client: MqttClient, opts: { count: number, perSecond: number, area: string, things?: number, onProgress?: (published: number) => void }): Stream {
  const facts: Fact[] = []
  const things = opts.things ?? 10
  const acks: Promise<unknown>[] = []
  const start = Date.now()
  const done = new Promise<void>((resolve, reject) => {
    const tick = setInterval(() => {
      const due = Math.min(opts.count, Math.floor((Date.now() - start) * opts.perSecond / 1000))
      while (facts.length < due) {
        const n = facts.length
        const fact = makeFact('motion.detected', { subject: `home/${opts.area}/motion-${n % things}`, source: `devices/motion-${n % things}`, seq: Math.floor(n / things) + 1, data: {} })
        facts.push(fact)
        acks.push(client.publishAsync(`${fact.subject}/fact/detected`, JSON.stringify(fact), { qos: 1 }))
      }
      opts.onProgress?.(facts.length)
      if (facts.length === opts.count) {
        clearInterval(tick)
        Promise.all(acks).then(() => resolve(), reject)
      }
    }, 10)
  })
  return { facts, done }
}

/** The ids of the facts a subscriber received on topics starting `prefix`, in arrival order. */
export function idsReceived (messages: readonly { topic: string, payload: string }[], prefix: string): string[] {
  return messages.filter((m) => m.topic.startsWith(prefix)).map((m) => (JSON.parse(m.payload) as Fact).id)
}

/** What a fault test asserts: every id once, in publish order. */
export function lostAndDuplicated (published: readonly string[], received: readonly string[]): { lost: number, duplicated: number, inOrder: boolean } {
  const seen = new Set<string>()
  let duplicated = 0
  for (const id of received) {
    if (seen.has(id)) duplicated++
    seen.add(id)
  }
  const lost = published.filter((id) => !seen.has(id)).length
  const firsts = [...seen]
  return { lost, duplicated, inOrder: firsts.length === published.length && firsts.every((id, i) => id === published[i]) }
}
