import type { ControllerName, DigitalOptions } from '../cup/controllers.ts'

/** How a button is wired: its digital pin, the internal pull-up, a normally-closed contact. */
export type ButtonWiring = DigitalOptions

/** A button is read like a switch: the BUTTON controller on a board, or SIMULATED (1 down, 0 up). */
export type ButtonControllerName = Exclude<ControllerName, 'FSR'>
