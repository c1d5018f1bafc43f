import type * as net from "node:net"
import type { WebSocket } from "ws"

/**
 * Waits in tests, each bounded by wall time and failing with the step's name: on a loaded CI
 * box (3 files at once on 2 cores) a step that hangs must say which one it was instead of
 * running into the test's 30 s timeout, and a slow step must not be cut by a count of polls.
 */

/** `promise`, or a failure naming `what` after `ms` of wall time. */
export const within = <A>(ms: number, what: string, promise: Promise<A>): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

/**
 * Polls `probe` until it gives a value (not `undefined` or `false`); fails naming `what`, plus
 * `detail()` (what was seen instead), after `timeoutMs` of wall time.
 */
export const pollUntil = <A>(
  what: string,
  probe: () => A | undefined | false,
  timeoutMs: number,
  detail: () => string = () => ""
): Promise<A> =>
  new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs
    const tick = () => {
      const value = probe()
      if (value !== undefined && value !== false) return resolve(value)
      if (Date.now() > deadline) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail()}`))
      setTimeout(tick, 5)
    }
    tick()
  })

/**
 * Resolves once the peer has read everything sent before on `ws` (it answers a ping after the
 * frames ahead of it); fails if the socket closes first or no pong comes within `timeoutMs`.
 */
export const pingRoundTrip = (ws: WebSocket, what: string, timeoutMs = 10_000): Promise<void> => {
  let settle = () => {}
  const answered = new Promise<void>((resolve, reject) => {
    const onPong = () => resolve()
    const onClose = () => reject(new Error(`${what}: the socket closed before answering a ping`))
    ws.once("pong", onPong)
    ws.once("close", onClose)
    settle = () => {
      ws.off("pong", onPong)
      ws.off("close", onClose)
    }
    ws.ping()
  })
  return within(timeoutMs, what, answered).finally(() => settle())
}

/**
 * Keeps every socket `server` accepts from now on (upgraded WebSockets included, which the
 * HTTP server's own `closeAllConnections` does not reach), and returns a close that destroys
 * them and then waits for the server, up to 10 s: a close that waits for open connections
 * hangs as long as a peer keeps one.
 */
export const closableServer = (server: net.Server, what: string): () => Promise<void> => {
  const sockets = new Set<net.Socket>()
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket)
    socket.once("close", () => sockets.delete(socket))
  })
  return () => {
    for (const socket of sockets) socket.destroy()
    // Not listening (already closed) is done too: a clean-up must not fail on that.
    return within(10_000, `close ${what}`, new Promise<void>((resolve) => server.close(() => resolve())))
  }
}
