#!/usr/bin/env node
// The `homefacts` command: a thin entry that loads the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../services/hub/cli.ts')
await main(process.argv)
