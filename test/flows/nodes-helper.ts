import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const root = fileURLToPath(new URL('../../', import.meta.url))

/** The parts of node-red-node-test-helper these tests use (it ships no types). */
export interface NodeHelper {
  init: (nodeRedPath: string, settings?: Record<string, unknown>) => void
  settings: (s: Record<string, unknown>) => void
  startServer: () => Promise<void>
  stopServer: () => Promise<void>
  load: (nodes: unknown[], flow: unknown[], credentials?: Record<string, unknown>) => Promise<void>
  unload: () => Promise<void>
  getNode: (id: string) => TestNode
}

export interface TestNode {
  receive: (msg: Record<string, unknown>) => void
  on: (event: string, listener: (arg: any) => void) => void
}

/** Builds the node package (as `npm run build` does) and returns the helper and the nodes. */
export function loadNodePackage (): { helper: NodeHelper, nodes: Record<'broker' | 'factIn' | 'factOut' | 'claim' | 'state', unknown> } {
  execFileSync(process.execPath, [`${root}flows/build.mjs`], { stdio: 'inherit' })
  const helper = require('node-red-node-test-helper') as NodeHelper
  helper.init(require.resolve('node-red'))
  const n = (f: string): unknown => require(`${root}flows/nodes/nodes/${f}.js`)
  return { helper, nodes: { broker: n('homefacts-broker'), factIn: n('fact-in'), factOut: n('fact-out'), claim: n('claim'), state: n('state') } }
}

/** Resolves with the next `input` message a helper node receives. */
export function nextMessage (node: TestNode): Promise<Record<string, unknown>> {
  return new Promise((resolve) => node.on('input', resolve))
}

/** Resolves with the next error a node reports (`done(err)` or `node.error`). */
export function nextError (node: TestNode): Promise<{ args: unknown[] }> {
  return new Promise((resolve) => node.on('call:error', resolve))
}
