import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { newFactId } from '#client'

/**
 * Opens a service's own SQLite file. WAL with `synchronous = NORMAL`, like the ledger: a process
 * crash loses no committed transaction.
 */
export function openDatabase (path: string): Database.Database {
  mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('busy_timeout = 5000')
  return db
}

/** A new order or customer id: a lower-cased ULID, which sorts by time and fits one topic level. */
export const newShopId = (now: number = Date.now()): string => newFactId(now).toLowerCase()

/**
 * A statement cache for one connection: each SQL text is prepared once, on first use. A store's
 * method runs the same statements on every fact, and preparing one compiles its SQL each time.
 * Each statement runs to completion before the next call (no `iterate()`), so one per text is enough.
 */
export function statements (db: Database.Database): (sql: string) => Database.Statement {
  const cache = new Map<string, Database.Statement>()
  return (sql) => {
    let statement = cache.get(sql)
    if (!statement) cache.set(sql, statement = db.prepare(sql))
    return statement
  }
}
