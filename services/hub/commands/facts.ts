import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Command } from 'commander'
import { Codes, HomefactsError } from '#contract'
import { Ledger, type LedgerEntry } from '../../../broker/index.ts'
import { dataFiles } from '../hub.ts'
import { configFrom, wholeNumber, withConfigOptions } from './options.ts'

/** One readable line per fact: offset, time, topic, type and data. */
export function formatEntry (e: LedgerEntry): string {
  return `#${e.offset}  ${e.fact.time}  ${e.topic}  ${e.fact.type}  ${JSON.stringify(e.fact.data)}`
}

export function register (program: Command): void {
  const facts = program.command('facts').description('Read the fact ledger')
  withConfigOptions(facts.command('tail'), ['dataDir'])
    .description('Print facts from the ledger in offset order (reads <dataDir>/ledger.sqlite; works while the hub runs)')
    .option('-a, --after <offset>', 'only facts after this offset', wholeNumber(0), 0)
    .option('-n, --limit <n>', 'at most this many (without --follow)', wholeNumber(0), 1000)
    .option('-t, --topic <filter>', 'MQTT topic filter, e.g. "home/kitchen/#"')
    .option('-f, --follow', 'keep printing new facts as they are accepted')
    .option('--json', 'print each entry as a JSON line')
    .action(async (opts: { after: number, limit: number, topic?: string, follow?: boolean, json?: boolean }, cmd: Command) => {
      const path = dataFiles(resolve(configFrom(cmd).dataDir)).ledger
      if (!existsSync(path)) throw new HomefactsError(Codes.CONFIG, `no ledger at ${path}: start the hub with this --data-dir first`)
      const ledger = new Ledger(path)
      ledger.open()
      const print = (e: LedgerEntry): void => void process.stdout.write((opts.json ? JSON.stringify(e) : formatEntry(e)) + '\n')
      let after = opts.after
      let stop = false
      process.once('SIGINT', () => { stop = true })
      process.once('SIGTERM', () => { stop = true })
      do {
        const page = ledger.read({ after, limit: opts.follow ? 1000 : opts.limit, ...(opts.topic ? { topic: opts.topic } : {}) })
        page.forEach(print)
        after = page.at(-1)?.offset ?? after
        // Another process appends; SQLite in WAL mode lets this reader poll without blocking it.
        if (opts.follow && page.length === 0) await sleep(200)
      } while (opts.follow && !stop)
      await ledger.close()
    })
}
