import { once } from 'node:events'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Worker as WorkerThread } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Ledger, LOCAL_BATCH, MAX_BATCH, WRITER_SEMI_SPACE_MB, type LedgerEntry } from '../../broker/ledger.ts'
import { cupEmpty } from '../helpers/facts.ts'
import type { Fact } from '#contract'

// The writer threads the ledger starts, so a test can end one as a crash would.
const writers = vi.hoisted(() => [] as WorkerThread[])
vi.mock('node:worker_threads', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:worker_threads')>()
  class Worker extends real.Worker {
    constructor (...args: ConstructorParameters<typeof real.Worker>) {
      super(...args)
      writers.push(this)
    }
  }
  return { ...real, Worker }
})

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
const topicOf = (f: Fact): string => `${f.subject}/fact/empty`

/** Appends `fact` and resolves once the writer thread the append started has taken over (its row is offset 1). */
async function warm (ledger: Ledger, fact = cupEmpty(100, 'hall', 'warm-cup')): Promise<void> {
  const ready = once(ledger, 'writer-ready')
  ledger.appendDeferred(topicOf(fact), fact, JSON.stringify(fact), 'dev', (err, offset) => {
    expect([err, offset]).toStrictEqual([null, 1])
  })
  await ready
}

describe('the ledger writer thread', () => {
  let dir: string
  let ledger: Ledger
  const errors: Error[] = []
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'homefacts-ledger-'))
    errors.length = 0
    ledger = new Ledger(join(dir, 'ledger.sqlite'), (err) => errors.push(err))
    ledger.open()
  })
  afterEach(async () => {
    await ledger.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('calls back appends in arrival order across many batches, with gap-free offsets, one row per fact id and a row readable from its callback on', async () => {
    const log: unknown[] = []
    const expected: unknown[] = []
    const events: [number, string][] = []
    ledger.on('append', (e) => events.push([e.offset, e.fact.id]))
    const seen: Fact[] = []
    const offsetOf = new Map<string, number>()
    for (let t = 0; t < 60; t++) {
      for (let k = 0; k < 40; k++) {
        // In odd turns every ninth is a redelivery of a fact sent before, in this turn or an
        // earlier one; even turns are all new facts (written sixteen rows to a statement).
        const again = t % 2 === 1 && k % 9 === 8 && seen.length > 0
        const fact = again ? seen[(t * 7 + k) % seen.length]! : cupEmpty(seen.length + 1, 'kitchen', `cup-${k % 5}`)
        if (!again) {
          seen.push(fact)
          offsetOf.set(fact.id, seen.length)
        }
        expected.push(['done', fact.id, offsetOf.get(fact.id)])
        ledger.appendDeferred(topicOf(fact), fact, JSON.stringify(fact), `dev-${k % 5}`, (err, offset) => {
          expect(err).toBeNull()
          log.push(['done', fact.id, offset])
          expect(ledger.read({ after: offset! - 1, limit: 1 })[0]?.fact.id).toBe(fact.id)
        })
      }
      await turn()
    }
    await vi.waitFor(() => expect(log).toHaveLength(expected.length))
    expect(log).toStrictEqual(expected)
    expect(events).toStrictEqual(seen.map((f, i) => [i + 1, f.id]))
    expect(ledger.lastOffset()).toBe(seen.length)
    const rows = ledger.read({ limit: 10_000 })
    expect(rows.map((e) => [e.offset, e.fact])).toStrictEqual(seen.map((f, i) => [i + 1, f]))
    expect(ledger.read({ topic: 'home/kitchen/cup-3/fact/empty', limit: 10_000 }).map((e) => e.fact.id))
      .toStrictEqual(seen.filter((f) => f.subject === 'home/kitchen/cup-3').map((f) => f.id))
    // Only one writer was needed: nothing died.
    expect(errors).toStrictEqual([])
  })

  it('writes the first appends on its own thread while the writer thread starts, then hands over with gap-free offsets', async () => {
    const order: string[] = []
    const first = cupEmpty(1)
    const ready = once(ledger, 'writer-ready').then(() => order.push('writer ready'))
    ledger.appendDeferred(topicOf(first), first, JSON.stringify(first), 'dev', (err, offset) => order.push(`${String(err)} ${offset}`))
    // The ledger's batch was scheduled before this turn: it is written and called back first.
    await turn()
    order.push('next turn')
    expect(order).toStrictEqual(['null 1', 'next turn'])
    await ready
    const later = [cupEmpty(2), cupEmpty(3)]
    const offsets = await Promise.all(later.map((f) => new Promise((resolve) => {
      ledger.appendDeferred(topicOf(f), f, JSON.stringify(f), 'dev', (err, offset) => resolve(err ?? offset))
    })))
    expect(offsets).toStrictEqual([2, 3])
    expect(ledger.read().map((e) => [e.offset, e.fact])).toStrictEqual([first, ...later].map((f, i) => [i + 1, f]))
    expect(errors).toStrictEqual([])
  })

  it('writes a small batch on its own thread once the writer is ready, and a larger one on the writer, in order', async () => {
    await warm(ledger)
    const order: string[] = []
    const small = Array.from({ length: LOCAL_BATCH }, (_, i) => cupEmpty(i + 1))
    const large = Array.from({ length: LOCAL_BATCH + 1 }, (_, i) => cupEmpty(LOCAL_BATCH + i + 1))
    const append = (facts: Fact[], name: string): Promise<unknown[]> => Promise.all(facts.map((f) => new Promise((resolve) => {
      ledger.appendDeferred(topicOf(f), f, JSON.stringify(f), 'dev', (err, offset) => resolve(err ?? offset))
    }))).then((offsets) => { order.push(name); return offsets })
    const smallDone = append(small, 'small')
    // Scheduled before this turn and written here: called back before the next turn.
    await turn()
    order.push('next turn')
    const largeDone = append(large, 'large')
    await turn()
    order.push('next turn')
    // The writer thread answers later.
    expect(order).toStrictEqual(['small', 'next turn', 'next turn'])
    expect(await smallDone).toStrictEqual(small.map((_, i) => i + 2))
    expect(await largeDone).toStrictEqual(large.map((_, i) => LOCAL_BATCH + i + 2))
    expect(ledger.read({ limit: 100 }).map((e) => e.fact.id).slice(1)).toStrictEqual([...small, ...large].map((f) => f.id))
    expect(errors).toStrictEqual([])
  })

  it('sends a burst to the writer in batches of at most MAX_BATCH, one after the other, and calls every append back in order', async () => {
    await warm(ledger)
    const sizes: number[] = []
    const writer = writers.at(-1)!
    const post = writer.postMessage.bind(writer)
    writer.postMessage = (message: unknown, transfer?: readonly Transferable[]) => {
      // A batch is one string: the time received, then four fields per fact (ledger-writer.js).
      if (typeof message === 'string' && message !== 'heap') sizes.push((message.split('\0').length - 1) / 4)
      post(message, transfer as never)
    }
    const burst = Array.from({ length: 2 * MAX_BATCH + 40 }, (_, i) => cupEmpty(i + 1, 'hall', `cup-${i % 7}`))
    const offsets = await Promise.all(burst.map((f) => new Promise((resolve) => {
      ledger.appendDeferred(topicOf(f), f, JSON.stringify(f), 'dev', (err, offset) => resolve(err ?? offset))
    })))
    expect(offsets).toStrictEqual(burst.map((_, i) => i + 2))
    expect(sizes).toStrictEqual([MAX_BATCH, MAX_BATCH, 40])
    expect(ledger.read({ limit: 1000 }).map((e) => e.fact.id).slice(1)).toStrictEqual(burst.map((f) => f.id))
    expect(errors).toStrictEqual([])
  })

  it('keeps the writer thread\'s young generation within WRITER_SEMI_SPACE_MB through bursts', async () => {
    await warm(ledger)
    // Facts with a 4 KB note each: 30 full batches, about 35 MB of batch strings in all.
    const note = 'n'.repeat(4096)
    for (let round = 0; round < 30; round++) {
      await Promise.all(Array.from({ length: MAX_BATCH }, (_, i) => {
        const f = { ...cupEmpty(round * MAX_BATCH + i + 1, 'hall', `cup-${i}`), note }
        return new Promise((resolve) => { ledger.appendDeferred(topicOf(f), f, JSON.stringify(f), 'dev', resolve) })
      }))
    }
    const spaces = await ledger.writerHeapSpaces()
    const young = spaces!.find((s) => s.space_name === 'new_space')!
    expect(young.space_size).toBeLessThanOrEqual(2 * WRITER_SEMI_SPACE_MB * 1024 * 1024)
    expect(ledger.read({ after: 30 * MAX_BATCH, limit: 10 })).toHaveLength(1)
  })

  it('announces a fact with its envelope to a listener that came while its batch was being written', async () => {
    await warm(ledger)
    // More than are written on the ledger's own thread: the batch goes to the writer.
    const facts = Array.from({ length: LOCAL_BATCH + 1 }, (_, i) => cupEmpty(i + 1))
    const offsets: number[] = []
    const committed = new Promise<void>((resolve) => {
      for (const f of facts) {
        ledger.appendDeferred(topicOf(f), f, JSON.stringify(f), 'dev', (err, offset) => {
          expect(err).toBeNull()
          if (offsets.push(offset!) === facts.length) resolve()
        })
      }
    })
    // The batch goes to the writer on the next turn, with no one listening.
    await turn()
    const events: LedgerEntry[] = []
    ledger.on('append', (e) => events.push(e))
    await committed
    expect(offsets).toStrictEqual(facts.map((_, i) => i + 2))
    expect(events.map((e) => [e.offset, e.topic, e.clientId, e.fact])).toStrictEqual(facts.map((f, i) => [i + 2, topicOf(f), 'dev', f]))
    expect(events.every((e) => e.receivedAt === events[0]!.receivedAt && !Number.isNaN(Date.parse(e.receivedAt)))).toBe(true)
  })

  it('fails every pending append when its writer dies, reports it, and takes the next append while a new writer starts', async () => {
    // A batch for the writer (more than LOCAL_BATCH), then one more.
    const facts = Array.from({ length: LOCAL_BATCH + 2 }, (_, i) => cupEmpty(i + 1))
    const outcomes: (Error | number)[] = []
    const append = (f: Fact): Promise<void> => new Promise((resolve) => {
      ledger.appendDeferred(topicOf(f), f, JSON.stringify(f), 'dev', (err, offset) => {
        outcomes.push(err ?? offset!)
        resolve()
      })
    })
    const before = writers.length
    await warm(ledger)
    expect(writers).toHaveLength(before + 1)
    const pending = Promise.all(facts.slice(0, -1).map(append))
    // Stopped before the batch goes to it (on the ledger's next turn), so it cannot answer: a
    // writer that died with the batch in flight. Stopped after, it could commit and answer first.
    const stopped = writers.at(-1)!.terminate()
    await pending
    await stopped
    expect(outcomes).toStrictEqual(facts.slice(0, -1).map(() => expect.any(Error)))
    expect((outcomes[0] as Error).message).toMatch(/^the ledger writer stopped: /)
    expect(errors.map((e) => e.message)).toStrictEqual([(outcomes[0] as Error).message])
    expect(ledger.read().map((e) => e.offset)).toStrictEqual([1])

    const events: LedgerEntry[] = []
    ledger.on('append', (e) => events.push(e))
    // Written on the ledger's thread, while a new writer starts.
    await append(facts.at(-1)!)
    await vi.waitFor(() => expect(writers).toHaveLength(before + 2))
    expect(outcomes.at(-1)).toBe(2)
    expect(events.map((e) => [e.offset, e.fact])).toStrictEqual([[2, facts.at(-1)]])
    expect(ledger.read().map((e) => e.fact).slice(1)).toStrictEqual([facts.at(-1)])
  })

  it('moves the WAL into the database file while small batches commit on its own thread: the writer thread checkpoints it', async () => {
    await warm(ledger)
    const before = statSync(ledger.path).size
    // One fact a batch, each written and committed on the ledger's thread, whose connection does
    // not checkpoint: without the writer's checkpoints the rows would stay in the WAL.
    for (let i = 1; i <= 1000; i++) {
      const f = cupEmpty(i)
      await new Promise<void>((resolve) => ledger.appendDeferred(topicOf(f), f, JSON.stringify(f), 'dev', (err) => { expect(err).toBeNull(); resolve() }))
    }
    expect(ledger.lastOffset()).toBe(1001)
    // 1,000 rows of some 400 bytes each, in the database file itself.
    await vi.waitFor(() => expect(statSync(ledger.path).size - before).toBeGreaterThan(1000 * 400), { timeout: 5000, interval: 50 })
  })

  it('keeps writing a ledger made with the envelope columns and the topic index, and drops the index', async () => {
    await ledger.close()
    const path = join(dir, 'old.sqlite')
    const old = new Database(path)
    old.pragma('journal_mode = WAL')
    old.exec(`CREATE TABLE facts (offset INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, topic TEXT NOT NULL, type TEXT NOT NULL,
      subject TEXT NOT NULL, time TEXT NOT NULL, client_id TEXT, received_at TEXT NOT NULL, payload TEXT NOT NULL);
      CREATE INDEX facts_topic ON facts(topic, offset);`)
    const first = cupEmpty(1)
    old.prepare('INSERT INTO facts (id, topic, type, subject, time, client_id, received_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(first.id, topicOf(first), first.type, first.subject, first.time, 'dev', first.time, JSON.stringify(first))
    ledger = new Ledger(path)
    ledger.open()
    const second = cupEmpty(2)
    const offset = await new Promise((resolve, reject) => ledger.appendDeferred(topicOf(second), second, JSON.stringify(second), 'dev', (err, o) => err ? reject(err) : resolve(o)))
    expect(offset).toBe(2)
    expect(ledger.read().map((e) => [e.offset, e.fact])).toStrictEqual([[1, first], [2, second]])
    expect(old.prepare('SELECT type, subject, time FROM facts WHERE offset = 2').get()).toStrictEqual({ type: second.type, subject: second.subject, time: second.time })
    expect(old.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'facts_topic'").all()).toStrictEqual([])
    old.close()
  })

  it('commits the appends pending when it closes, refuses those that come meanwhile in their turn, then refuses appends at once until opened again', async () => {
    const facts = [cupEmpty(1), cupEmpty(2), cupEmpty(3)]
    const outcomes: (Error | number)[] = []
    const record = (err: Error | null, offset?: number): void => void outcomes.push(err ?? offset!)
    ledger.appendDeferred(topicOf(facts[0]!), facts[0]!, JSON.stringify(facts[0]), 'dev', (err, offset) => {
      record(err, offset)
      ledger.appendDeferred(topicOf(facts[2]!), facts[2]!, JSON.stringify(facts[2]), 'dev', record)
    })
    ledger.appendDeferred(topicOf(facts[1]!), facts[1]!, JSON.stringify(facts[1]), 'dev', record)
    await ledger.close()
    expect(outcomes).toStrictEqual([1, 2, new Error('the ledger is closing')])
    ledger.appendDeferred(topicOf(facts[0]!), facts[0]!, JSON.stringify(facts[0]), 'dev', record)
    expect(outcomes[3]).toStrictEqual(new Error('the ledger is not open'))
    ledger.open()
    expect(ledger.read().map((e) => [e.offset, e.fact])).toStrictEqual([[1, facts[0]], [2, facts[1]]])
  })
})
