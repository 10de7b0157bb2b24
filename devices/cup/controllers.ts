import { EventEmitter } from 'node:events'

/** The part of a Firmata IO (firmata.js, or any johnny-five IO plugin) the controllers use. */
export interface FirmataIO {
  MODES: { INPUT: number, ANALOG: number, PULLUP?: number }
  pinMode: (pin: number, mode: number) => void
  analogRead: (pin: number, callback: (value: number) => void) => void
  digitalRead: (pin: number, callback: (value: number) => void) => void
}

/** Where a simulated sensor's readings come from: the keyboard, a script, a test. */
export class SimulatedSource extends EventEmitter<{ raw: [number] }> {
  /** Emits a reading; for the simulated controller the raw value is the 0..1 level. */
  set (level: number): void {
    this.emit('raw', level)
  }
}

/** Per-thing settings a controller reads. */
export interface ControllerOptions {
  /** `A0`..`A5` (or the channel number) for analog controllers, a digital pin number otherwise. */
  pin?: string | number | undefined
  /** Raw readings of the empty and the full cup; the level is linear between them. */
  calibration: { empty: number, full: number }
  /** Reverse a digital input (a normally-closed contact). */
  invert: boolean
  /** Use the board's internal pull-up: the input reads 0 when the contact closes to ground. */
  pullup: boolean
}

/** What a digital input reads of its settings (a button reads nothing more). */
export type DigitalOptions = Pick<ControllerOptions, 'pin' | 'pullup' | 'invert'>

/** What a controller is given to read from: the board's IO, or a simulated source. */
export interface ControllerContext {
  io?: FirmataIO
  source?: SimulatedSource
}

/**
 * One way of reading a thing. `initialize` starts reading and reports every raw value;
 * `toState` maps a raw value to the 0..1 level the detector works on.
 */
export interface Controller {
  /** True when the controller needs a board (johnny-five over Firmata). */
  readonly board: boolean
  initialize: (ctx: ControllerContext, opts: ControllerOptions, onRaw: (raw: number) => void) => void
  toState: (raw: number, opts: ControllerOptions) => number
}

const clamp = (n: number): number => Math.min(1, Math.max(0, n))

/** `A0` → 0; `3` or `"3"` → 3. Throws a `TypeError` naming the expected form. */
export function pinNumber (pin: string | number | undefined, analog: boolean): number {
  if (typeof pin === 'number' && Number.isInteger(pin) && pin >= 0) return pin
  const m = typeof pin === 'string' ? (analog ? /^A?(\d+)$/ : /^D?(\d+)$/).exec(pin) : null
  if (!m) throw new TypeError(`pin ${JSON.stringify(pin)} is not ${analog ? 'an analog pin like "A0"' : 'a digital pin number like 2'}`)
  return Number(m[1])
}

function needIO (ctx: ControllerContext): FirmataIO {
  if (!ctx.io) throw new TypeError('this controller reads a board: give it the board IO')
  return ctx.io
}

/**
 * The controllers table (in the style of johnny-five's `lib/motion.js` `Controllers`).
 * A new way of reading a thing is one entry here.
 */
export const Controllers = {
  /** A force-sensitive resistor in a voltage divider on an analog pin: heavier cup, higher reading. */
  FSR: {
    board: true,
    initialize (ctx, opts, onRaw) {
      const io = needIO(ctx)
      const pin = pinNumber(opts.pin, true)
      // firmata.js maps an analog channel to its pin for ANALOG mode, as johnny-five's Sensor does.
      io.pinMode(pin, io.MODES.ANALOG)
      io.analogRead(pin, onRaw)
    },
    toState (raw, opts) {
      const { empty, full } = opts.calibration
      return clamp((raw - empty) / (full - empty))
    }
  },
  /** A switch on a digital pin: closed (or pressed) is level 1. */
  BUTTON: {
    board: true,
    initialize (ctx, opts: DigitalOptions, onRaw) {
      const io = needIO(ctx)
      const pin = pinNumber(opts.pin, false)
      io.pinMode(pin, opts.pullup && io.MODES.PULLUP !== undefined ? io.MODES.PULLUP : io.MODES.INPUT)
      io.digitalRead(pin, onRaw)
    },
    toState (raw, opts: DigitalOptions) {
      // With the pull-up the input idles high and reads 0 while the contact is closed.
      const closed = opts.pullup ? raw === 0 : raw !== 0
      return closed !== opts.invert ? 1 : 0
    }
  },
  /** Readings pushed by the keyboard, a script or a test; the raw value is the level itself. */
  SIMULATED: {
    board: false,
    initialize (ctx, _opts: unknown, onRaw) {
      if (!ctx.source) throw new TypeError('the simulated controller needs a SimulatedSource')
      ctx.source.on('raw', onRaw)
    },
    toState: (raw) => clamp(raw)
  }
} as const satisfies Record<string, Controller>

export type ControllerName = keyof typeof Controllers
export const CONTROLLER_NAMES = Object.keys(Controllers) as ControllerName[]
