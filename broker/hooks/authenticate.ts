import type { Client } from 'aedes'
import type { Logger } from 'pino'
import type { UserStore, Principal } from '../users.ts'
import { MqttTokens } from '../tokens.ts'
import type { AuthenticateHandler, Principals } from '../principals.ts'
import type { BrokerConfig } from '../config.ts'

export interface AuthenticateDeps {
  users: UserStore
  principals: Principals
  /** True for clients that came in on the anonymous test listener. */
  isAnonymous: (client: Client) => boolean
  anonymousRole: BrokerConfig['anonymous']['role']
  /** The web app's short-lived MQTT passwords (issue 12), when the hub issues them. */
  tokens?: MqttTokens
  log: Logger
}

/** Connack return code 4 / reason 0x86: bad user name or password. */
function refused (message: string): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode: 4 })
}

/** Users from the users file, checked with scrypt. Anonymous only on the test listener. */
export function authenticate (deps: AuthenticateDeps): AuthenticateHandler {
  return (client, username, password, callback) => {
    if (deps.isAnonymous(client)) {
      deps.principals.set(client, { username: username ?? 'anonymous', role: deps.anonymousRole })
      return callback(null, true)
    }
    if (!username || !password) {
      deps.log.warn({ clientId: client.id }, 'connection refused: no credentials (anonymous access is off)')
      return callback(refused('credentials required'), false)
    }
    const secret = password.toString('utf8')
    const check = deps.tokens && MqttTokens.isToken(secret) ? Promise.resolve(byToken(deps, username, secret)) : deps.users.authenticate(username, secret)
    check.then((principal) => {
      if (!principal) {
        deps.log.warn({ clientId: client.id, username }, MqttTokens.isToken(secret) ? 'connection refused: token expired or not valid for this user' : 'connection refused: wrong user name or password')
        return callback(refused('bad user name or password'), false)
      }
      deps.principals.set(client, principal)
      callback(null, true)
    }, (err: Error) => {
      deps.log.error({ err, clientId: client.id, username }, 'connection refused: users file unreadable')
      callback(refused('users file unreadable'), false)
    })
  }
}

/** The user a valid, unexpired token names: still in the users file, so a removed user's token dies with them. */
function byToken (deps: AuthenticateDeps, username: string, token: string): Principal | null {
  if (!deps.tokens!.verify(username, token)) return null
  const user = deps.users.get(username)
  if (!user) return null
  const { password: _password, ...principal } = user
  return principal
}
