import { pinNumber, type FirmataIO, type SimulatedSource } from '../cup/controllers.ts'

/** How a button is wired. */
export interface ButtonWiring {
  /** The digital pin of the push button. */
  pin?: string | number | undefined
  /** Use the board's internal pull-up: the input reads 0 while the button is held (wired to ground). */
  pullup: boolean
  /** Reverse the input (a normally-closed button). */
  invert: boolean
}

/** What a button controller reads from: the board's IO, or a simulated source (1 down, 0 up). */
export interface ButtonContext {
  io?: FirmataIO
  source?: SimulatedSource
}

/**
 * One way of reading a push button, in the shape of the cup's controllers table (and johnny-five's
 * `Controllers`): `initialize` starts reading and reports every raw value, `isDown` says whether
 * a raw value means the button is held down.
 */
export interface ButtonController {
  /** True when the controller needs a board (johnny-five over Firmata). */
  readonly board: boolean
  initialize: (ctx: ButtonContext, wiring: ButtonWiring, onRaw: (raw: number) => void) => void
  isDown: (raw: number, wiring: ButtonWiring) => boolean
}

/** The button controllers. A new way of reading a button is one entry here. */
export const ButtonControllers = {
  /** A push button on a digital pin of an Arduino running StandardFirmata. */
  BUTTON: {
    board: true,
    initialize (ctx, wiring, onRaw) {
      if (!ctx.io) throw new TypeError('the BUTTON controller reads a board: give it the board IO')
      const pin = pinNumber(wiring.pin, false)
      ctx.io.pinMode(pin, wiring.pullup && ctx.io.MODES.PULLUP !== undefined ? ctx.io.MODES.PULLUP : ctx.io.MODES.INPUT)
      ctx.io.digitalRead(pin, onRaw)
    },
    isDown (raw, wiring) {
      // With the pull-up the input idles high and reads 0 while the button is held.
      const closed = wiring.pullup ? raw === 0 : raw !== 0
      return closed !== wiring.invert
    }
  },
  /** Presses from the keyboard, a script or a test: 1 is down, 0 is up. */
  SIMULATED: {
    board: false,
    initialize (ctx, _wiring, onRaw) {
      if (!ctx.source) throw new TypeError('the simulated button needs a SimulatedSource')
      ctx.source.on('raw', onRaw)
    },
    isDown: (raw) => raw >= 0.5
  }
} as const satisfies Record<string, ButtonController>

export type ButtonControllerName = keyof typeof ButtonControllers
export const BUTTON_CONTROLLER_NAMES = Object.keys(ButtonControllers) as ButtonControllerName[]
