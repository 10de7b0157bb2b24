import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs'
import { dirname } from 'node:path'

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
    try {
      return JSON.parse(readFileSync(this.path, 'utf8')) as Record<string, Credentials>
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
      throw err
    }
  }

  get (name: string): Credentials | undefined {
    return this.#read()[name]
  }

  set (name: string, creds: Credentials): void {
    const all = { ...this.#read(), [name]: creds }
    mkdirSync(dirname(this.path), { recursive: true })
    const tmp = `${this.path}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(all, null, 2) + '\n', { mode: 0o600 })
    renameSync(tmp, this.path)
  }
}
