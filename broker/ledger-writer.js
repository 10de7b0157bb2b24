// The ledger's writer thread (see ledger.ts): its own better-sqlite3 connection, for the large
// batches (those of a burst, which would hold the broker's event loop for milliseconds) and for
// the WAL checkpoints (each an fsync), so both run off the broker's event loop. Plain ESM
// JavaScript, so the thread starts under any loader: `node --import tsx`, tsx's `register()`
// (which does not reach worker threads) and vitest alike.
//
// In: a batch as one string, fields joined by NUL (which no MQTT topic or client id
// [MQTT-1.5.4-2], no fact id and no JSON text may hold): the time received, then per fact its
// id, its topic, its client id ('' for none, else '=' and the id) and its payload; or null to
// close; or 'heap', for this thread's V8 heap spaces (diagnostics). Out: per fact its offset (an
// exact redelivery keeps the offset it has), -1 when its id is already in the ledger for a
// different payload, or 0 and an error message.
import { getHeapSpaceStatistics } from 'node:v8'
import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { rowWriter } from './ledger-rows.js'

/**
 * How often the WAL is moved into the database file. A PASSIVE checkpoint never blocks a
 * writer, here or on the broker's thread, and a batch that arrives during one waits for it.
 */
const CHECKPOINT_EVERY_MS = 200

const db = new Database(workerData.path, { fileMustExist: true })
// NORMAL in WAL mode: a committed append survives a process crash (kill -9); only an OS crash
// or power loss can lose the last transactions.
db.pragma('synchronous = NORMAL')
// Checkpoints are this thread's timer's (below); an automatic one would come after a commit and
// hold up its reply.
db.pragma('wal_autocheckpoint = 0')
const checkpoints = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)') } catch {}
}, CHECKPOINT_EVERY_MS)
const write = rowWriter(db)
// The statements are ready: from now on the broker thread may send its batches here.
parentPort.postMessage('ready')

parentPort.on('message', (batch) => {
  if (batch === null) {
    clearInterval(checkpoints)
    db.close()
    parentPort.close()
    return
  }
  if (batch === 'heap') {
    parentPort.postMessage({ heap: getHeapSpaceStatistics() })
    return
  }
  const reply = write(batch)
  parentPort.postMessage(reply, [reply.offsets.buffer])
})
