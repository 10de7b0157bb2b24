import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { decidedBy, decisionOf, decisions } from './world.ts'
import { notified, startHouseholdHub, type HouseholdHub } from './household-hub.ts'

/** The hub's log lines, parsed, with a way to wait for one. */
class LogLines {
  readonly lines: Record<string, unknown>[] = []
  #waiters: { test: (l: Record<string, unknown>) => boolean, resolve: (l: Record<string, unknown>) => void }[] = []
  readonly stream = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      for (const text of chunk.toString().split('\n').filter(Boolean)) {
        const line = JSON.parse(text) as Record<string, unknown>
        this.lines.push(line)
        this.#waiters = this.#waiters.filter((w) => !(w.test(line) && (w.resolve(line), true)))
      }
      done()
    }
  })

  wait (test: (l: Record<string, unknown>) => boolean, ms = 5000): Promise<Record<string, unknown>> {
    const seen = this.lines.find(test)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line in ${ms} ms; got ${JSON.stringify(this.lines.map((l) => l.msg))}`)), ms)
      this.#waiters.push({ test, resolve: (l) => { clearTimeout(timer); resolve(l) } })
    })
  }
}

const changed = (text: string) => (l: Record<string, unknown>): boolean => typeof l.msg === 'string' && l.msg.startsWith('household changed:') && l.msg.includes(text)

describe('household changes while the hub runs', () => {
  let h: HouseholdHub
  let dir: string
  let file: string
  const log = new LogLines()
  /** Writes the config file with a modification time the hub cannot have seen (mtime resolution). */
  let tick = 0
  const writeConfig = (content: string): void => {
    writeFileSync(file, content)
    const at = new Date(Date.now() + ++tick * 1000)
    utimesSync(file, at, at)
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'homefacts-live-'))
    file = join(dir, 'homefacts.config.json')
    writeConfig(JSON.stringify({ household: { members: [{ name: 'mummy' }] } }))
    h = await startHouseholdHub({ configFile: file, log: pino({ level: 'info' }, log.stream) })
    await h.addMember('mummy')
  })
  afterAll(async () => {
    await h.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('offers the next fact to a member added to the users file, within seconds and with a log line saying so', async () => {
    // Added as `homefacts users add` does, to the file; the hub's poll finds it (no check() here).
    await h.t.hub.users.add({ username: 'daddy-phone', role: 'member', member: 'daddy' })
    const line = await log.wait(changed('added member daddy'), 5000)
    expect(line).toMatchObject({ level: 30, changes: ['added member daddy (parent)'], members: ['mummy', 'daddy'] })
    await h.wire.wait((m) => m.topic === 'household/daddy/presence' && m.payload === 'home', 1, 2000)
    await log.wait((l) => l.msg === 'responder started' && l.member === 'daddy', 2000)
    const empty = await h.cup.empty()
    await h.wire.wait(notified('daddy', 'offered', empty.id), 1, 2000)
    await h.cup.filled()
  })

  it('applies an edit of the config file, and keeps the last good household when an edit is broken, naming the key', async () => {
    writeConfig(JSON.stringify({ household: { members: [{ name: 'mummy' }, { name: 'daddy', presence: 'away' }], policies: { 'cup.empty': { auto: ['mummy'] } } } }))
    const line = await log.wait(changed('changed policies'), 5000)
    expect(line.changes).toStrictEqual(['changed member daddy', 'changed policies'])
    const claimed = await h.cup.empty()
    await h.wire.wait(decidedBy('mummy', claimed.id), 1, 3000)
    expect(decisions(h.wire, 'mummy', claimed.id).map((f) => decisionOf(f).decision)).toStrictEqual(['claim'])
    await h.cup.filled()

    writeConfig(JSON.stringify({ household: { members: [{ name: 'Mummy!' }] } }))
    const error = await log.wait((l) => l.level === 50 && l.code === 'HF_CONFIG', 5000)
    expect(error.msg).toContain('household.members.0.name')
    expect(error.msg).toContain('keeping the household config loaded before')
    expect(h.t.hub.household.current.policies['cup.empty']!.auto).toStrictEqual(['mummy'])
    // Still the last good household: Mummy's agent claims for her.
    const next = await h.cup.empty()
    await h.wire.wait(decidedBy('mummy', next.id), 1, 3000)
    expect(decisions(h.wire, 'mummy', next.id).map((f) => decisionOf(f).decision)).toStrictEqual(['claim'])
  })
})
