import type { AedesOptions, Client } from 'aedes'
import type { Principal } from './users.ts'

/** Who each connected client is, set by `authenticate` and read by the authorize hooks. */
export type Principals = WeakMap<Client, Principal>

/** The hook signatures, which aedes types but does not export by name. */
export type AuthenticateHandler = NonNullable<AedesOptions['authenticate']>
export type AuthorizePublishHandler = NonNullable<AedesOptions['authorizePublish']>
export type AuthorizeSubscribeHandler = NonNullable<AedesOptions['authorizeSubscribe']>
