import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * The folder of the nearest package.json above this file, from source or dist/: files the build
 * does not copy are found from here.
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
