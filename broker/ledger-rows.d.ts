import type Database from 'better-sqlite3'

export function rowWriter (db: Database.Database): (batch: string) => { offsets: Float64Array, errors: (string | undefined)[] | null }
