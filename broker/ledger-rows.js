// The ledger's row writes, on whichever connection does them: the writer thread's
// (ledger-writer.js), or the broker thread's own while that thread starts (ledger.ts). Plain ESM
// JavaScript for the same reason as ledger-writer.js.
//
// A batch is one string, fields joined by NUL (ledger-writer.js says which).

const FIELDS = 4

/**
 * The writes of a batch on `db`, each batch in one transaction: per fact its offset (an exact
 * redelivery keeps the offset it has), -1 when its id is already in the ledger for a different
 * payload, or 0 and an error message.
 * @param {import('better-sqlite3').Database} db
 * @returns {(batch: string) => { offsets: Float64Array, errors: (string | undefined)[] | null }}
 */
export function rowWriter (db) {
  // Ledgers made before the envelope's type, subject and time were left to the payload still
  // have those columns, and they are NOT NULL.
  const envelopeColumns = db.pragma('table_info(facts)').some((c) => c.name === 'type')
  const COLUMNS = envelopeColumns ? 8 : 5
  /** An INSERT of `rows` rows in one statement. */
  const insertRows = (rows) => db.prepare(`INSERT OR IGNORE INTO facts (id, topic, client_id, received_at, payload${envelopeColumns ? ', type, subject, time' : ''}) VALUES ${
    Array.from({ length: rows }, () => `(${Array(COLUMNS).fill('?').join(', ')})`).join(', ')}`)
  // Rows go in by CHUNK per statement: one step and one call into SQLite for sixteen facts.
  const CHUNK = 16
  const insertChunk = insertRows(CHUNK)
  const insert = insertRows(1)
  const byId = db.prepare('SELECT offset, payload FROM facts WHERE id = ?')

  /** The offset of the row already holding the fact at `i`: its own for a redelivery, -1 for another fact under the same id. */
  function existing (f, i) {
    const row = byId.get(f[i])
    return row.payload === f[i + 3] ? row.offset : -1
  }
  const params = new Array(CHUNK * COLUMNS)

  /** Puts the bound values of the fact at `i` into `out` from `at`. */
  function bind (f, i, out, at) {
    out[at] = f[i]
    out[at + 1] = f[i + 1]
    out[at + 2] = f[i + 2] === '' ? null : f[i + 2].slice(1)
    out[at + 3] = f[0]
    out[at + 4] = f[i + 3]
    if (envelopeColumns) {
      const fact = JSON.parse(f[i + 3])
      out[at + 5] = fact.type
      out[at + 6] = fact.subject
      out[at + 7] = fact.time
    }
  }

  /** Inserts the fact at `i`; a fact id already present keeps its offset ([MQTT-4.3.2] QoS 1 may redeliver). */
  function insertOne (f, i) {
    const row = new Array(COLUMNS)
    bind(f, i, row, 0)
    const r = insert.run(row)
    return r.changes === 0 ? existing(f, i) : Number(r.lastInsertRowid)
  }

  /**
   * Inserts the facts from `k` on, CHUNK of them, into `offsets`. When all are new their offsets
   * run on from the last one (an INTEGER PRIMARY KEY is the highest + 1, and this is the only
   * writer); when one was already there, each id is looked up.
   */
  function insertChunkAt (f, offsets, k) {
    for (let c = 0; c < CHUNK; c++) bind(f, 1 + (k + c) * FIELDS, params, c * COLUMNS)
    const r = insertChunk.run(params)
    if (r.changes === CHUNK) {
      const last = Number(r.lastInsertRowid)
      for (let c = 0; c < CHUNK; c++) offsets[k + c] = last - CHUNK + 1 + c
    } else {
      for (let c = 0; c < CHUNK; c++) offsets[k + c] = existing(f, 1 + (k + c) * FIELDS)
    }
  }

  const insertAll = db.transaction((f, offsets) => {
    let k = 0
    for (; k + CHUNK <= offsets.length; k += CHUNK) insertChunkAt(f, offsets, k)
    for (; k < offsets.length; k++) offsets[k] = insertOne(f, 1 + k * FIELDS)
  })

  return (batch) => {
    const f = batch.split('\0')
    const offsets = new Float64Array((f.length - 1) / FIELDS)
    let errors = null
    try {
      insertAll(f, offsets)
    } catch {
      // The batch failed as a whole: each fact on its own, so each gets its own outcome.
      for (let k = 0; k < offsets.length; k++) {
        try {
          offsets[k] = insertOne(f, 1 + k * FIELDS)
        } catch (err) {
          offsets[k] = 0
          errors ??= []
          errors[k] = err instanceof Error ? err.message : String(err)
        }
      }
    }
    return { offsets, errors }
  }
}
