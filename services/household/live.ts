import { statSync } from 'node:fs'
import type { Logger } from 'pino'
import { HomefactsError } from '#contract'
import type { HouseholdConfig } from './config.ts'
import { changesBetween, householdOf, type UserLike } from './members.ts'

export interface LiveHouseholdOptions {
  /** Reads and parses the `household` section again (config file, environment, flags); throws `HF_CONFIG` naming the bad key. */
  read: () => HouseholdConfig
  /** The hub's users now (the users file is re-read when it changed). */
  users: () => readonly UserLike[]
  /** The config file: `read` runs again when its modification time changes (or it appears). */
  configFile?: string | undefined
  /** The household in force at start (the config already parsed). */
  initial: HouseholdConfig
  log: Logger
}

/** Called with the new household, the one before it, and what changed (one line each). */
export type HouseholdListener = (next: HouseholdConfig, before: HouseholdConfig, changes: string[]) => Promise<void> | void

const mtimeOf = (path: string | undefined): number => {
  if (!path) return -1
  try {
    return statSync(path).mtimeMs
  } catch {
    return -1
  }
}

/**
 * The household as the running hub sees it: the config section plus every member user,
 * looked at again every second. A change is logged (what changed) and handed to each
 * listener in turn; a broken edit is logged with the key it names, and the last good household
 * stays in force. Built here, started by `start()`.
 */
export class LiveHousehold {
  #opts: LiveHouseholdOptions
  #section: HouseholdConfig
  #current: HouseholdConfig
  #mtime = -1
  #timer: NodeJS.Timeout | undefined
  #listeners: HouseholdListener[] = []
  #chain: Promise<void> = Promise.resolve()

  constructor (opts: LiveHouseholdOptions) {
    this.#opts = opts
    this.#section = opts.initial
    this.#current = opts.initial
  }

  /** The household in force now. */
  get current (): HouseholdConfig {
    return this.#current
  }

  /** Adds a listener, called after each change, one at a time, in the order they were added. */
  onChange (listener: HouseholdListener): () => void {
    this.#listeners.push(listener)
    return () => { this.#listeners = this.#listeners.filter((l) => l !== listener) }
  }

  /** Reads the users (and remembers the config file's time) once, then looks again every second. */
  start (): void {
    this.#mtime = mtimeOf(this.#opts.configFile)
    this.#current = householdOf(this.#section, this.#opts.users())
    clearInterval(this.#timer)
    this.#timer = setInterval(() => { void this.check() }, 1000)
    this.#timer.unref()
  }

  stop (): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Looks at the files now; resolves once any change is applied (for tests and the CLI). */
  check (): Promise<void> {
    this.#chain = this.#chain.then(() => this.#check()).catch((err: unknown) => this.#opts.log.error({ err }, 'household change not applied'))
    return this.#chain
  }

  async #check (): Promise<void> {
    const { log } = this.#opts
    const mtime = mtimeOf(this.#opts.configFile)
    if (mtime !== this.#mtime) {
      this.#mtime = mtime
      try {
        this.#section = this.#opts.read()
      } catch (err) {
        if (!(err instanceof HomefactsError)) throw err
        log.error({ code: err.code, issues: err.issues, file: this.#opts.configFile }, `${err.message}\nkeeping the household config loaded before`)
      }
    }
    let users: readonly UserLike[]
    try {
      users = this.#opts.users()
    } catch (err) {
      if (!(err instanceof HomefactsError)) throw err
      // The users store logs a broken users file itself and keeps the users it had.
      return
    }
    const next = householdOf(this.#section, users)
    const changes = changesBetween(this.#current, next)
    if (changes.length === 0) return
    const before = this.#current
    this.#current = next
    log.info({ changes, members: next.members.map((m) => m.name) }, `household changed: ${changes.join('; ')}`)
    for (const listener of this.#listeners) await listener(next, before, changes)
  }
}
