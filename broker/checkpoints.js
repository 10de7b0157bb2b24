// The ledger's WAL checkpoints, on a thread of their own (broker/ledger.ts starts it): a
// checkpoint writes the WAL's pages into the database file and syncs it, which takes
// milliseconds that would otherwise stall the broker's event loop. PASSIVE: it never blocks the
// broker's writes. Plain JavaScript, so it runs under Node, tsx and the build alike.
import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'

const db = new Database(workerData.path, { fileMustExist: true })
const timer = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), workerData.everyMs)
parentPort.once('message', () => {
  clearInterval(timer)
  db.close()
  parentPort.close()
})
