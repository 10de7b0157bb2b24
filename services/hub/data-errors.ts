import { Codes, HomefactsError } from '#contract'

/** A file of the data dir the hub opens at start, and what moving it aside costs. */
export interface DataFile {
  path: string
  /** What a new, empty one loses, e.g. "the ledger starts again at offset 1". */
  lost: string
}

/** The `code` of an error and of each error in its `cause` chain (LevelDB wraps its own). */
function codesOf (err: unknown): string[] {
  const codes: string[] = []
  for (let e = err as { code?: unknown, cause?: unknown } | undefined; e && codes.length < 5; e = e.cause as typeof e) {
    if (typeof e.code === 'string') codes.push(e.code)
  }
  return codes
}

function detailOf (err: unknown): string {
  let e = err as { message?: string, cause?: unknown }
  while (e.cause && typeof e.cause === 'object') e = e.cause as typeof e
  return e.message ?? String(err)
}

/**
 * A full disk, or a locked or corrupt `file`, as a coded error that names the file and the way to
 * recover (docs/running.md, "When things go wrong"); null for any other error.
 */
export function dataDirError (err: unknown, dataDir: string, file?: DataFile): HomefactsError | null {
  if (err instanceof HomefactsError) return null
  const codes = codesOf(err)
  const detail = detailOf(err)
  if (codes.includes('SQLITE_FULL') || codes.includes('ENOSPC') || /no space left/i.test(detail)) {
    return new HomefactsError(Codes.DISK_FULL, `no space left on the disk that holds ${dataDir} (${detail}): free some space there (df -h ${dataDir}) and start again; nothing already stored is lost`)
  }
  if (!file) return null
  if (codes.includes('LEVEL_LOCKED') || codes.includes('SQLITE_BUSY')) {
    return new HomefactsError(Codes.DATA_LOCKED, `${file.path} is locked (${detail}): another hub is running on ${dataDir}; stop it, or start this one with another --data-dir`)
  }
  if (codes.includes('LEVEL_CORRUPTION') || codes.includes('SQLITE_NOTADB') || codes.includes('SQLITE_CORRUPT')) {
    return new HomefactsError(Codes.DATA_CORRUPT, `${file.path} is corrupt (${detail}): restore it from a backup, or move it aside (mv ${file.path} ${file.path}.broken) and start again, and ${file.lost}`)
  }
  return null
}

/** Runs `open` and turns what `dataDirError` recognises into its coded error. */
export async function opening<T> (dataDir: string, file: DataFile, open: () => T | Promise<T>): Promise<T> {
  try {
    return await open()
  } catch (err) {
    throw dataDirError(err, dataDir, file) ?? err
  }
}
