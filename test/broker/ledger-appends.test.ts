import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Ledger } from '../../broker/ledger.ts'
import { cupEmpty } from '../helpers/facts.ts'
import type { Fact } from '#contract'

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
const topicOf = (f: Fact): string => `${f.subject}/fact/empty`
const append = (ledger: Ledger, f: Fact, payload = JSON.stringify(f)): Promise<number | Error> =>
  new Promise((resolve) => ledger.appendDeferred(topicOf(f), f, payload, 'dev', (err, offset) => resolve(err ?? offset!)))

describe('the ledger', () => {
  let dir: string
  let ledger: Ledger
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'homefacts-ledger-'))
    ledger = new Ledger(join(dir, 'ledger.sqlite'))
    ledger.open()
  })
  afterEach(async () => {
    await ledger.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('calls back appends in arrival order across many turns, with gap-free offsets, one row per fact id and a row readable from its callback on', async () => {
    const log: unknown[] = []
    const expected: unknown[] = []
    const events: [number, string][] = []
    ledger.on('append', (e) => events.push([e.offset, e.fact.id]))
    const seen: Fact[] = []
    const offsetOf = new Map<string, number>()
    for (let t = 0; t < 30; t++) {
      for (let k = 0; k < 40; k++) {
        // In odd turns every ninth is a redelivery of a fact sent before, in this turn or an earlier one.
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
    expect(log).toStrictEqual(expected)
    expect(events).toStrictEqual(seen.map((f, i) => [i + 1, f.id]))
    expect(ledger.lastOffset()).toBe(seen.length)
    expect(ledger.read({ limit: 10_000 }).map((e) => [e.offset, e.fact])).toStrictEqual(seen.map((f, i) => [i + 1, f]))
    expect(ledger.read({ topic: 'home/kitchen/cup-3/fact/empty', limit: 10_000 }).map((e) => e.fact.id))
      .toStrictEqual(seen.filter((f) => f.subject === 'home/kitchen/cup-3').map((f) => f.id))
  })

  it('writes the appends made together in one transaction once the code that made them returns, and calls them back before the next turn', async () => {
    const order: string[] = []
    const facts = [cupEmpty(1), cupEmpty(2), cupEmpty(3)]
    const reader = new Database(ledger.path, { readonly: true })
    const rows = (): unknown => reader.prepare('SELECT COUNT(*) AS n FROM facts').get()
    for (const f of facts) ledger.appendDeferred(topicOf(f), f, JSON.stringify(f), 'dev', (err, offset) => order.push(`${String(err)} ${offset} ${JSON.stringify(rows())}`))
    // Nothing is written while the code that appends runs.
    expect(rows()).toStrictEqual({ n: 0 })
    await turn()
    order.push('next turn')
    // One commit for the three: each is called back with all three rows there.
    expect(order).toStrictEqual(['null 1 {"n":3}', 'null 2 {"n":3}', 'null 3 {"n":3}', 'next turn'])
    reader.close()
  })

  it('keeps the offset of a fact appended again with the same payload, and refuses another fact under a used id while the rest of its batch goes in', async () => {
    const first = cupEmpty(1)
    expect(await append(ledger, first)).toBe(1)
    const impostor = { ...first, data: { level: 0.5 } }
    const next = cupEmpty(2)
    const outcomes = await Promise.all([append(ledger, first), append(ledger, impostor, JSON.stringify(impostor)), append(ledger, next)])
    expect(outcomes[0]).toBe(1)
    expect(outcomes[1]).toMatchObject({ code: 'HF_DUPLICATE_ID', message: `fact id ${first.id} is already in the ledger for a different fact` })
    expect(outcomes[2]).toBe(2)
    expect(ledger.read().map((e) => e.fact)).toStrictEqual([first, next])
  })

  it('gives each fact its own outcome when its batch cannot be written whole', async () => {
    const facts = [cupEmpty(1), cupEmpty(2), cupEmpty(3)]
    // A row SQLite refuses, as a full disk or an I/O error would refuse a write.
    const db = new Database(ledger.path)
    db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON facts WHEN NEW.id = '${facts[1]!.id}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`)
    db.close()
    const outcomes = await Promise.all(facts.map((f) => append(ledger, f)))
    expect(outcomes[0]).toBe(1)
    expect(outcomes[1]).toMatchObject({ message: 'refused by the test' })
    expect(outcomes[2]).toBe(2)
    expect(ledger.read().map((e) => e.fact)).toStrictEqual([facts[0], facts[2]])
  })

  it('writes the appends queued when it closes, then refuses appends at once until opened again', async () => {
    const facts = [cupEmpty(1), cupEmpty(2)]
    const outcomes = facts.map((f) => append(ledger, f))
    await ledger.close()
    expect(await Promise.all(outcomes)).toStrictEqual([1, 2])
    expect(await append(ledger, cupEmpty(3))).toStrictEqual(new Error('the ledger is not open'))
    ledger.open()
    expect(ledger.read().map((e) => [e.offset, e.fact])).toStrictEqual(facts.map((f, i) => [i + 1, f]))
    expect(ledger.lastOffset()).toBe(2)
  })

  it('has its WAL moved into the database file by its checkpoint thread, not by a commit', async () => {
    const before = statSync(ledger.path).size
    const facts = Array.from({ length: 1000 }, (_, i) => cupEmpty(i + 1))
    await Promise.all(facts.map((f) => append(ledger, f)))
    // 1,000 rows of some 400 bytes each: in the WAL at once, in the database file within a few beats.
    expect(statSync(`${ledger.path}-wal`).size).toBeGreaterThan(1000 * 400)
    await vi.waitFor(() => expect(statSync(ledger.path).size - before).toBeGreaterThan(1000 * 400), { timeout: 5000, interval: 100 })
  })

  it('takes over a ledger made with the envelope columns and the topic index, keeping its facts', async () => {
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
    old.close()
    ledger = new Ledger(path)
    ledger.open()
    const second = cupEmpty(2)
    expect(await append(ledger, second)).toBe(2)
    expect(ledger.read().map((e) => [e.offset, e.fact])).toStrictEqual([[1, first], [2, second]])
    const db = new Database(path, { readonly: true })
    expect((db.pragma('table_info(facts)') as { name: string }[]).map((c) => c.name)).toStrictEqual(['offset', 'id', 'topic', 'client_id', 'received_at', 'payload'])
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'facts_topic'").all()).toStrictEqual([])
    db.close()
  })
})
