import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls'
import type { IncomingMessage, Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Duplex } from 'node:stream'
import { WebSocketServer, createWebSocketStream } from 'ws'
import { Codes, HomefactsError } from '#contract'

type Handle = (conn: Duplex, req?: IncomingMessage) => unknown

/**
 * Sends what is written to `socket` in one turn of the event loop in one system call: aedes
 * writes each packet on its own, a `writev` per message. The first write of a turn corks, the
 * turn's end uncorks. The fan-in floors of `npm run bench` need it (docs/benchmarks.md).
 */
export function coalesceWrites (socket: Socket): void {
  let corked = false
  const uncork = (): void => {
    corked = false
    socket.uncork()
  }
  const write = socket.write
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>): boolean {
    if (!corked) {
      corked = true
      socket.cork()
      setImmediate(uncork)
    }
    return write.apply(this, args)
  } as Socket['write']
}

/** Each MQTT connection, plain or TLS: TCP_NODELAY, as small facts must not wait for Nagle, and coalesced writes. */
function accept (handle: Handle, onSocket?: (s: Socket) => void): (socket: Socket) => void {
  return (socket) => {
    socket.setNoDelay(true)
    coalesceWrites(socket)
    onSocket?.(socket)
    handle(socket)
  }
}

/** Starts a TCP listener for MQTT. */
export function listenTcp (handle: Handle, port: number, host: string, key: string, onSocket?: (s: Socket) => void): Promise<Server> {
  return listen(createServer({ noDelay: true }, accept(handle, onSocket)), port, host, key)
}

/** Starts a TLS listener for MQTT (8883). */
export function listenTls (handle: Handle, creds: { cert: Buffer, key: Buffer }, port: number, host: string, key: string): Promise<TlsServer> {
  return listen(createTlsServer({ cert: creds.cert, key: creds.key }, accept(handle)), port, host, key)
}

/** Listens, turning EADDRINUSE into a coded error that names the port and the config key. */
export function listen<S extends Server | HttpServer> (server: S, port: number, host: string, key: string): Promise<S> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening)
      if (err.code === 'EADDRINUSE') {
        reject(Object.assign(new HomefactsError(Codes.PORT_IN_USE, `port ${port} on ${host} is already in use (${key})`), { key, port }))
      } else reject(err)
    }
    const onListening = (): void => {
      server.off('error', onError)
      resolve(server)
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}

export const portOf = (server: Server | HttpServer): number => (server.address() as AddressInfo).port

/** MQTT over WebSocket on an existing HTTP server, at `path` (subprotocol `mqtt`). */
export function attachWebSocket (http: HttpServer | HttpsServer, path: string, handle: Handle): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })
  http.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname !== path) return
    wss.handleUpgrade(req, socket, head, (ws) => {
      ;(socket as Socket).setNoDelay?.(true)
      handle(createWebSocketStream(ws), req)
    })
  })
  return wss
}

export function closeServer (server: Server | HttpServer | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve()
  return new Promise((resolve) => server.close(() => resolve()))
}
