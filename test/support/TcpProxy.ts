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

/**
 * A suite's database behind a proxy its tests can cut: pass `viaDatabaseUrl` to the test server
 * (it starts the proxy in front of the suite's database), then `current()` is that proxy.
 */
export const databaseProxy = () => {
  let proxy: TcpProxy | undefined
  const viaDatabaseUrl = (url: string) =>
    Effect.gen(function*() {
      const target = new URL(url)
      proxy = yield* startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
      target.hostname = "127.0.0.1"
      target.port = String(proxy.port)
      return target.toString()
    })
  const current = (): TcpProxy => {
    if (proxy === undefined) throw new Error("the suite's database proxy has not started")
    return proxy
  }
  return { viaDatabaseUrl, current } as const
}
