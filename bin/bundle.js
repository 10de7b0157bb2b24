// Loads the hub's bundle (dist/cli.cjs, scripts/build.mjs) with a V8 code cache, so a start
// neither parses the 3 MB bundle nor compiles again the functions its modules run as they load
// (docs/footprint.md, "Cold start").
//
// The cache is V8's own (vm.Script cachedData). V8 accepts it only from the same V8 and with the
// same V8 flags, and checks the source by its length alone, so there is one file per Node
// version, set of Node flags and bundle (its size and modification time):
// dist/code-cache/<key>.bin. When it is missing or V8 rejects it, this process writes a new one
// as it exits; `npm run build` makes the one for the command's own flags. Without a cache, or
// where dist/ cannot be written, the bundle loads as before, only slower.
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import Module, { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Script, constants } from 'node:vm'

/** Where the code cache of `file`, as it is now, is kept for this Node and the Node flags `execArgv`. */
export function codeCacheFile (file, execArgv = process.execArgv) {
  const { size, mtimeMs } = statSync(file)
  const key = createHash('sha256').update(JSON.stringify([process.version, process.arch, execArgv, size, mtimeMs])).digest('hex').slice(0, 16)
  return join(dirname(file), 'code-cache', `${key}.bin`)
}

/**
 * Runs the CommonJS bundle `file` and returns its exports, and what became of its code cache:
 * `accepted`, `rejected` (then rewritten at exit) or `missing` (then written at exit).
 */
export function loadBundle (file) {
  const cacheFile = codeCacheFile(file)
  let cachedData
  try {
    cachedData = readFileSync(cacheFile)
  } catch {}
  // esbuild writes ASCII only (its default charset), so latin1 reads the same text, 2 to 3 times
  // faster than UTF-8 (checked by the build).
  const script = new Script(Module.wrap(readFileSync(file, 'latin1')), {
    filename: file,
    cachedData,
    // import() in the bundle (of packages left outside it) goes to Node's own loader.
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER
  })
  const codeCache = cachedData === undefined ? 'missing' : script.cachedDataRejected ? 'rejected' : 'accepted'
  // Written at exit, so it holds the functions this run compiled too, not only the top levels.
  if (codeCache !== 'accepted') process.once('exit', () => writeCodeCache(script, cacheFile))
  const module = { exports: {} }
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file))
  return { exports: module.exports, codeCache }
}

/** Best effort: a read-only install, or a full disk, runs without a cache. */
function writeCodeCache (script, cacheFile) {
  const tmp = `${cacheFile}.${process.pid}.tmp`
  try {
    mkdirSync(dirname(cacheFile), { recursive: true })
    writeFileSync(tmp, script.createCachedData())
    renameSync(tmp, cacheFile)
  } catch {
    rmSync(tmp, { force: true })
  }
}
