import { createServer, connect, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

/**
 * A TCP gate in front of the broker on an ephemeral port. While it is down, every connection is
 * dropped at once, as if the broker were unreachable; the hub itself keeps running.
 */
export class Gate {
  #server: Server
  #sockets = new Set<Socket>()
  #up = false

  constructor (targetPort: number) {
    this.#server = createServer((socket) => {
      if (!this.#up) return void socket.destroy()
      const upstream = connect(targetPort, '127.0.0.1')
      this.#sockets.add(socket).add(upstream)
      socket.pipe(upstream).pipe(socket)
      const close = (): void => {
        socket.destroy()
        upstream.destroy()
        this.#sockets.delete(socket)
        this.#sockets.delete(upstream)
      }
      socket.on('error', close).on('close', close)
      upstream.on('error', close).on('close', close)
    })
  }

  async listen (): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    return `mqtt://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  up (): void {
    this.#up = true
  }

  down (): void {
    this.#up = false
    for (const s of this.#sockets) s.destroy()
  }

  async close (): Promise<void> {
    this.down()
    await new Promise((resolve) => this.#server.close(resolve))
  }
}
