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
import { rowWriter } from './ledger-rows.js'

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
const write = rowWriter(db)
// The statements are ready: from now on the broker thread sends its batches here.
parentPort.postMessage('ready')

parentPort.on('message', (batch) => {
  if (batch === null) {
    checkpointer.postMessage('close')
    db.close()
    parentPort.close()
    return
  }
  const reply = write(batch)
  parentPort.postMessage(reply, [reply.offsets.buffer])
})
