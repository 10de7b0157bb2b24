// Node-RED loads JavaScript: bundle the nodes' controllers with the contract (#contract) and the
// client library (#client) into one CommonJS file. mqtt and zod stay dependencies of the package.
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

const here = (p) => fileURLToPath(new URL(p, import.meta.url))

await build({
  entryPoints: [here('./src/index.ts')],
  outfile: here('./nodes/lib/homefacts.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['mqtt', 'zod'],
  // Short local names: the file is read by Node-RED, not by people (the sources are flows/src).
  minifyIdentifiers: true,
  legalComments: 'none',
  logLevel: 'warning'
})
