import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs'
import { dirname } from 'node:path'
import { Codes, HomefactsError } from '#contract'

export interface Credentials {
  username: string
  password: string
}

/**
 * `<dataDir>/secrets.json` (mode 0600): the passwords the hub generated for itself, its
 * services and the first admin, so they survive restarts. Protect it like the users file.
 */
export class Secrets {
  readonly path: string
  constructor (path: string) {
    this.path = path
  }

  #read (): Record<string, Credentials> {
    let text: string
    try {
      text = readFileSync(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
      throw err
    }
    try {
      return JSON.parse(text) as Record<string, Credentials>
    } catch (err) {
      throw new HomefactsError(Codes.DATA_CORRUPT, `secrets file ${this.path} is not valid JSON (${(err as Error).message}): move it aside (mv ${this.path} ${this.path}.broken) and start again; the hub makes new passwords for its own accounts, and the admin keeps the one in users.json`)
    }
  }

  get (name: string): Credentials | undefined {
    return this.#read()[name]
  }

  set (name: string, creds: Credentials): void {
    writeSecretFile(this.path, { ...this.#read(), [name]: creds })
  }
}

/** Writes `value` as JSON (mode 0600) to a temp file renamed over `path`: a crash leaves the old file or the new one. */
export function writeSecretFile (path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 })
  renameSync(tmp, path)
}
