import { Effect } from "effect"
import * as net from "node:net"
import { closableServer } from "./Bounded.js"

export interface TcpProxy {
  readonly port: number
  /** Drops every open connection and refuses new ones, like a database that went away. */
  readonly cut: Effect.Effect<void>
  readonly restore: Effect.Effect<void>
}

/** A TCP forwarder to `target` that a test can cut and restore, to simulate outages. */
export const startTcpProxy = (target: { readonly host: string; readonly port: number }) =>
  Effect.acquireRelease(
    Effect.async<{ proxy: TcpProxy; sockets: Set<net.Socket>; close: () => Promise<void> }>((resume) => {
      const sockets = new Set<net.Socket>()
      let up = true
      const server = net.createServer((client) => {
        if (!up) return client.destroy()
        const upstream = net.connect(target.port, target.host)
        for (const socket of [client, upstream]) {
          sockets.add(socket)
          socket.on("close", () => sockets.delete(socket))
          socket.on("error", () => {
            client.destroy()
            upstream.destroy()
          })
        }
        client.pipe(upstream)
        upstream.pipe(client)
      })
      const close = closableServer(server, "the TCP proxy")
      server.listen(0, "127.0.0.1", () => {
        const address = server.address() as net.AddressInfo
        const proxy: TcpProxy = {
          port: address.port,
          cut: Effect.sync(() => {
            up = false
            for (const socket of sockets) socket.destroy()
          }),
          restore: Effect.sync(() => {
            up = true
          })
        }
        resume(Effect.succeed({ proxy, sockets, close }))
      })
    }),
    // Its upstream sockets too: they are not the server's, and a destroyed client does not end them.
    ({ close, sockets }) =>
      Effect.promise(() => {
        for (const socket of sockets) socket.destroy()
        return close()
      })
  ).pipe(Effect.map(({ proxy }) => proxy))
