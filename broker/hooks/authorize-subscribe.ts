import type { Logger } from 'pino'
import { canSubscribe } from '../acl.ts'
import type { AuthorizeSubscribeHandler, Principals } from '../principals.ts'

/** The subscribe side of the ACL. A refused filter gets SUBACK 0x80 (v3.1.1) or 0x87 (v5). */
export function authorizeSubscribe (deps: { principals: Principals, log: Logger }): AuthorizeSubscribeHandler {
  return (client, sub, callback) => {
    const who = client ? deps.principals.get(client) : undefined
    if (client && (!who || !canSubscribe(who, client.id, sub.topic))) {
      deps.log.warn({ clientId: client.id, username: who?.username, filter: sub.topic }, 'subscription refused by the ACL')
      return callback(null, null)
    }
    callback(null, sub)
  }
}
