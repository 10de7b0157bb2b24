// The ledger's writer thread (see ledger.ts): its own better-sqlite3 connection, so inserts,
// commits and WAL checkpoints (each an fsync) run off the broker's event loop. Plain ESM
// JavaScript, so the thread starts under any loader: `node --import tsx`, tsx's `register()`
// (which does not reach worker threads) and vitest alike.
//
// In: a batch as one string, fields joined by NUL (which no MQTT topic or client id
// [MQTT-1.5.4-2], no fact id and no JSON text may hold): the time received, then per fact its
// id, its topic, its client id ('' for none, else '=' and the id) and its payload; or null to
// close. Out: per fact its offset (an exact redelivery keeps the offset it has), -1 when its id
// is already in the ledger for a different payload, or 0 and an error message.
import { createRequire } from 'node:module'
import { parentPort, Worker, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'

const FIELDS = 4
const CHECKPOINT_EVERY_MS = 200

/**
 * The checkpointer: its own connection, on a thread of its own, moving the WAL into the
 * database file. A checkpoint fsyncs (synchronous = NORMAL in WAL mode syncs at checkpoints)
 * for milliseconds; run here, on commit, it held up the next batch and so its acknowledgements.
 * A PASSIVE checkpoint never blocks the writer.
 */
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.module)
const db = new Database(workerData.path, { fileMustExist: true })
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)') } catch {}
}, workerData.everyMs)
parentPort.once('message', () => {
  clearInterval(timer)
  db.close()
  parentPort.close()
})
`

const db = new Database(workerData.path, { fileMustExist: true })
// NORMAL in WAL mode: a committed append survives a process crash (kill -9); only an OS crash
// or power loss can lose the last transactions.
db.pragma('synchronous = NORMAL')
// Here only when the checkpointer falls behind a steady stream of commits, so the WAL stays
// bounded (the default is 1,000 pages).
db.pragma('wal_autocheckpoint = 4000')
const checkpointer = new Worker(CHECKPOINTER, {
  eval: true,
  workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), path: workerData.path, everyMs: CHECKPOINT_EVERY_MS }
})
// Should it fail, checkpoints all come back here.
checkpointer.on('error', () => db.pragma('wal_autocheckpoint = 1000'))
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

parentPort.on('message', (batch) => {
  if (batch === null) {
    checkpointer.postMessage('close')
    db.close()
    parentPort.close()
    return
  }
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
  parentPort.postMessage({ offsets, errors }, [offsets.buffer])
})
