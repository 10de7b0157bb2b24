import { EventEmitter } from 'node:events'
import { accessSync, constants, statSync } from 'node:fs'
import type { Logger } from 'pino'
import { Codes, HomefactsError } from '#contract'
import type { FirmataIO } from './cup/controllers.ts'

const WINDOWS_PORT = /^COM\d+$/i

/** johnny-five reports errors as Errors, strings or `{ message }` objects. */
const reason = (err: unknown): string => err instanceof Error ? err.message : typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err)

/**
 * Checks a serial port before johnny-five sees it, so a missing board or a permission problem
 * is a coded error that says what to do, not a serialport stack trace.
 */
export function checkPort (path: string): void {
  if (WINDOWS_PORT.test(path)) return
  try {
    accessSync(path, constants.R_OK | constants.W_OK)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EPERM') {
      throw new HomefactsError(Codes.DEVICE_PORT, `no permission to open ${path}: add your user to the "dialout" group (sudo usermod -aG dialout $USER), then log out and in again`)
    }
    throw new HomefactsError(Codes.DEVICE_PORT, `no serial device at ${path}: is the board plugged in? Look for it with "ls /dev/ttyACM* /dev/ttyUSB*" (macOS: "ls /dev/cu.usbmodem*")`)
  }
  if (!statSync(path).isCharacterDevice()) throw new HomefactsError(Codes.DEVICE_PORT, `${path} is not a serial device`)
}

function closeTransport (io: unknown): void {
  // firmata.js waits 5 s for a version report; a board that failed should not hold the process.
  clearTimeout((io as { reportVersionTimeoutId?: NodeJS.Timeout } | null)?.reportVersionTimeoutId)
  const transport = (io as { transport?: { isOpen?: boolean, close?: () => void } } | null)?.transport
  try {
    if (transport?.isOpen !== false) transport?.close?.()
  } catch { /* already closed */ }
}

export interface BoardLinkOptions {
  /** The serial port of an Arduino running StandardFirmata. */
  port?: string | undefined
  /** Instead of a port: makes a Firmata IO (tests give a mock-firmata instance). */
  io?: (() => unknown) | undefined
  log: Logger
  /** How often to look for the board again after it went away. */
  retryMs?: number
  /** How long the board may take to answer as StandardFirmata. */
  timeoutMs?: number
}

/**
 * A johnny-five board that may come and go. `ready` fires with the board's IO each time it
 * (re)connects, `lost` when it is unplugged or stops answering; the process keeps running and
 * looks for the board again.
 */
export class BoardLink extends EventEmitter<{ ready: [FirmataIO], lost: [string] }> {
  readonly #opts: BoardLinkOptions
  #io: FirmataIO | null = null
  #retry: NodeJS.Timeout | undefined
  #stopped = false
  #generation = 0

  constructor (opts: BoardLinkOptions) {
    super()
    if (!opts.port && !opts.io) throw new HomefactsError(Codes.DEVICE_PORT, 'a board needs a serial port (--port /dev/ttyACM0)')
    this.#opts = opts
  }

  get io (): FirmataIO | null {
    return this.#io
  }

  get label (): string {
    return this.#opts.port ?? 'mock board'
  }

  /** Opens the board; rejects with `HF_DEVICE_PORT` when it is missing or does not answer. */
  async start (): Promise<void> {
    if (this.#opts.port) checkPort(this.#opts.port)
    await this.#open()
  }

  async #open (): Promise<void> {
    const { default: five } = await import('johnny-five')
    const generation = ++this.#generation
    const { port, io, timeoutMs } = this.#opts
    // Never `new Board()` bare: with neither port nor io johnny-five lists ports through serialport.
    const board = new five.Board({ ...(io ? { io: io() } : { port: port! }), repl: false, debug: false, sigint: false, timeout: timeoutMs ?? 10_000 })
    await new Promise<void>((resolve, reject) => {
      let settled = false
      const fail = (why: string): void => {
        if (generation !== this.#generation) return
        this.#generation++
        const wasReady = settled
        settled = true
        this.#io = null
        if (wasReady) {
          this.#opts.log.warn({ port: this.label, why }, 'board lost; the device stays up and looks for it again')
          this.emit('lost', why)
          this.#scheduleRetry()
        } else {
          // johnny-five keeps its ready timeout and the port open after an error; let both go.
          clearTimeout((board as unknown as { timer?: NodeJS.Timeout }).timer)
          closeTransport(board.io)
          reject(new HomefactsError(Codes.DEVICE_PORT, `the board on ${this.label} did not answer as StandardFirmata (${why}); upload StandardFirmata with the Arduino IDE (File > Examples > Firmata)`))
        }
      }
      board.on('error', (err: unknown) => fail(reason(err)))
      board.on('close', () => fail('the serial port closed'))
      board.on('disconnect', () => fail('the board was unplugged'))
      board.once('ready', () => {
        if (generation !== this.#generation) return
        settled = true
        this.#io = board.io as FirmataIO
        this.#opts.log.info({ port: this.label }, 'board ready')
        this.emit('ready', this.#io)
        resolve()
      })
    })
  }

  #scheduleRetry (): void {
    if (this.#stopped) return
    clearTimeout(this.#retry)
    this.#retry = setTimeout(() => {
      const port = this.#opts.port
      if (port) {
        try {
          checkPort(port)
        } catch {
          return this.#scheduleRetry()
        }
      }
      this.#open().catch((err: unknown) => {
        this.#opts.log.warn({ port: this.label, err: (err as Error).message }, 'board not back yet')
        this.#scheduleRetry()
      })
    }, this.#opts.retryMs ?? 2000)
  }

  /** Stops looking for the board and closes its port. */
  stop (): void {
    this.#stopped = true
    this.#generation++
    clearTimeout(this.#retry)
    closeTransport(this.#io)
    this.#io = null
  }
}
