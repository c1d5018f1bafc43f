import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import { eventually, eventuallyHolds } from "./support/Eventually.js"
import { startReplica } from "./support/Replicas.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"

// A burst of callers reaches the listener faster than a busy event loop accepts them: the kernel
// queues them up to the listen backlog (HTTP_LISTEN_BACKLOG, capped by net.core.somaxconn) and
// drops the rest, whose clients retry 1 s, then 3 s later (seconds of silence on a call). The
// process is stopped (SIGSTOP) so that nothing is accepted: what connects is what the queue holds.

/** The kernel's cap on any listen backlog; the default case needs room for its connections. */
const somaxconn = Number(fs.readFileSync("/proc/sys/net/core/somaxconn", "utf8"))
const BURST = 1000

/** The replica, stopped until the scope closes (continued before it is stopped for good). */
const stoppedReplica = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const replica = yield* startReplica(yield* testDatabaseUrl, env)
    const pid = replica.process.pid!
    yield* Effect.acquireRelease(
      Effect.sync(() => process.kill(pid, "SIGSTOP")),
      () => Effect.sync(() => process.kill(pid, "SIGCONT"))
    )
    return Number(new URL(replica.baseUrl).port)
  })

/** Opens `count` connections to `port` (closed with the scope): a counter of those connected so far. */
const connect = (port: number, count: number) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const connected = { count: 0 }
      const sockets = Array.from({ length: count }, () => {
        const socket = net.connect({ port, host: "127.0.0.1" })
        socket.once("connect", () => connected.count++)
        socket.on("error", () => {})
        return socket
      })
      return { connected, sockets }
    }),
    ({ sockets }) => Effect.sync(() => sockets.forEach((socket) => socket.destroy()))
  ).pipe(Effect.map(({ connected }) => connected))

it.scopedLive.skipIf(somaxconn < BURST)(`by default a burst of ${BURST} connections waits in the accept queue, none dropped`, () =>
  Effect.gen(function*() {
    const port = yield* stoppedReplica({})
    const connected = yield* connect(port, BURST)
    // With node's default backlog (511) 512 connect and the rest are dropped until the process accepts.
    const count = yield* eventually(Effect.sync(() => connected.count), (n) => n === BURST, 10_000)
    expect(count).toBe(BURST)
  }), 60_000)

it.scopedLive("HTTP_LISTEN_BACKLOG sets the queue: past it, connections wait for the process", () =>
  Effect.gen(function*() {
    const port = yield* stoppedReplica({ HTTP_LISTEN_BACKLOG: "100" })
    const connected = yield* connect(port, 300)
    // Linux queues backlog + 1; the others' SYNs are dropped while the queue stays full.
    yield* eventuallyHolds(Effect.sync(() => connected.count), (n) => n >= 100, 10_000)
    yield* Effect.sleep("1500 millis") // past the first SYN retry of those dropped
    expect(connected.count).toBeGreaterThanOrEqual(100)
    expect(connected.count).toBeLessThanOrEqual(102)
  }), 60_000)
