import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * The folder of homefacts' package.json: the nearest one above this file, so the same whether it
 * runs from its TypeScript source (services/lib/) or from its build (dist/services/lib/). Files
 * the build does not copy (bin/, flows/, the web app's dist/) are found from here.
 */
export const PACKAGE_ROOT = ((): string => {
  let dir = import.meta.dirname
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error(`no package.json above ${import.meta.dirname}`)
    dir = up
  }
  return dir
})()
