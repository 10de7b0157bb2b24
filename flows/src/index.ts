/**
 * What the homefacts Node-RED nodes run: the tested controllers, and the contract and client
 * library they need. Bundled by `npm run build` (`flows/build.mjs`) into `flows/nodes/lib/homefacts.cjs`, which the
 * node files require (Node-RED loads JavaScript).
 */
export { BrokerConnection, type ConnectionOptions, type ConnectionStatus } from './connection.ts'
export { FactInController, type FactInOptions, type FactInResult } from './fact-in.ts'
export { FactOutController, type FactOutOptions, type SeqStore } from './fact-out.ts'
export { ClaimController, LOST_RACE, type ClaimOptions, type ClaimResult } from './claim.ts'
export { StateController, type StateOptions, type StateResult } from './state.ts'
export { publishClaim } from '#client'
export { HomefactsError, registry } from '#contract'
