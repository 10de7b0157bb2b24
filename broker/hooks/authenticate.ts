import type { Client } from 'aedes'
import type { Logger } from 'pino'
import type { UserStore, Principal } from '../users.ts'
import { MqttTokens } from '../tokens.ts'
import type { AuthenticateHandler, Principals } from '../principals.ts'
import type { BrokerConfig } from '../config.ts'
import type { LoginThrottle } from '../throttle.ts'
import type { ConnectionsPerUser } from '../limits.ts'
import { Codes } from '#contract'

export interface AuthenticateDeps {
  users: UserStore
  principals: Principals
  /** True for clients that came in on the anonymous test listener. */
  isAnonymous: (client: Client) => boolean
  anonymousRole: BrokerConfig['anonymous']['role']
  /** The web app's short-lived MQTT passwords, when the hub issues them. */
  tokens?: MqttTokens
  /** Failed logins per user name and per address (`limits.loginFailures`). */
  throttle: LoginThrottle
  /** `limits.connectionsPerUser`. */
  connections: ConnectionsPerUser
  log: Logger
}

/** Connack return code 4 / reason 0x86: bad user name or password. */
function refused (message: string): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode: 4 })
}

/** A refusal patched aedes tells an MQTT 5 client as it is (reason code, `<HF_CODE>: <message>`); MQTT 3.1.1 gets 3 (server unavailable). */
function limited (code: string, reasonCode: number, message: string): Error & { returnCode: number, reasonCode: number, reasonString: string } {
  return Object.assign(new Error(message), { returnCode: 3, reasonCode, reasonString: `${code}: ${message}` })
}

const QUOTA_EXCEEDED = 0x97
const CONNECTION_RATE_EXCEEDED = 0x9F

/** Where a client connects from: the TCP peer, or the HTTP request a WebSocket came in on. */
function addressOf (client: Client): string {
  const conn = client.conn as { remoteAddress?: string }
  const req = (client as Client & { req?: { socket?: { remoteAddress?: string } } }).req
  return conn.remoteAddress ?? req?.socket?.remoteAddress ?? 'unknown'
}

/**
 * Users from the users file, checked with scrypt; anonymous only on the test listener, which has
 * no limits. Past `limits.loginFailures` for a user name or an address, attempts are refused
 * unchecked until the wait is over (0x9F); past `limits.connectionsPerUser`, refused (0x97).
 */
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
    const address = addressOf(client)
    const keys = [`user:${username}`, `addr:${address}`]
    const wait = deps.throttle.retryAfter(keys)
    if (wait > 0) {
      deps.log.warn({ clientId: client.id, username, address, retryAfterSeconds: wait }, 'connection refused: too many failed logins (limits.loginFailures)')
      return callback(limited(Codes.LOGIN_THROTTLED, CONNECTION_RATE_EXCEEDED, `too many failed logins; try again in ${wait} s`), false)
    }
    const secret = password.toString('utf8')
    const check = deps.tokens && MqttTokens.isToken(secret) ? Promise.resolve(byToken(deps, username, secret)) : deps.users.authenticate(username, secret)
    check.then((principal) => {
      if (!principal) {
        deps.throttle.fail(keys)
        deps.log.warn({ clientId: client.id, username, address }, MqttTokens.isToken(secret) ? 'connection refused: token expired or not valid for this user' : 'connection refused: wrong user name or password')
        return callback(refused('bad user name or password'), false)
      }
      deps.throttle.succeed(keys[0]!)
      if (!deps.connections.admit(principal.username, client)) {
        deps.log.warn({ clientId: client.id, username }, 'connection refused: the user holds limits.connectionsPerUser connections already')
        return callback(limited(Codes.QUOTA, QUOTA_EXCEEDED, `${principal.username} already holds the most connections one user may (limits.connectionsPerUser)`), false)
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
  const user = deps.tokens!.verify(username, token) ? deps.users.get(username) : undefined
  if (!user) return null
  const { password: _password, ...principal } = user
  return principal
}
