// aedes-persistence's own abstract suite, run against the hub's session store by
// test/broker/session-store.test.ts (it is written for node:test).
import { test } from 'node:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import abstract from 'aedes-persistence/abstract.js'
import { SessionStore } from '../../broker/session-store.ts'

const dir = mkdtempSync(join(tmpdir(), 'homefacts-session-store-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
let n = 0
abstract({ test, persistence: () => new SessionStore(join(dir, `sessions-${++n}.sqlite`)), testAsync: true })
