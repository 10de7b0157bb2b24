import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { newFactId } from '#client'

/** Opens a service's own SQLite file: WAL with `synchronous = NORMAL`, so a crash loses no commit. */
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

/** A statement cache: one per SQL text, since each runs to completion (no `iterate()`). */
export function statements (db: Database.Database): (sql: string) => Database.Statement {
  const cache = new Map<string, Database.Statement>()
  return (sql) => {
    let statement = cache.get(sql)
    if (!statement) cache.set(sql, statement = db.prepare(sql))
    return statement
  }
}
