// The ledger's WAL checkpoints (a write and a sync of the database file, milliseconds) on a thread
// of their own, off the broker's event loop; PASSIVE never blocks its writes. Plain JavaScript, so
// it runs under Node, tsx and the build alike.
import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'

const db = new Database(workerData.path, { fileMustExist: true })
const timer = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), workerData.everyMs)
parentPort.once('message', () => {
  clearInterval(timer)
  db.close()
  parentPort.close()
})
