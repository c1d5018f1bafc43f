import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as net from "node:net"
import { performance } from "node:perf_hooks"
import { inBackground } from "../src/Runtime/Background.js"

/** A TCP server on 127.0.0.1 and a client connected to it; `received` logs each read as it is handled. */
const connectedPair = async (received: Array<string>, onData: (socket: net.Socket) => void = () => {}) => {
  const accepted: Array<net.Socket> = []
  const server = net.createServer((socket) => {
    accepted.push(socket)
    // The client is destroyed with a ping in flight: its reset is expected.
    socket.on("error", () => {})
    socket.on("data", (chunk) => {
      received.push(chunk.toString())
      onData(socket)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as net.AddressInfo
  const client = net.connect(port, "127.0.0.1")
  await new Promise<void>((resolve) => client.once("connect", resolve))
  const close = () => {
    client.destroy()
    for (const socket of accepted) socket.destroy()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return { client, close }
}

/** `steps` slices of ~1 ms of CPU, the fiber yielding between two (as a fiber resumed by I/O does). */
const busyWork = (steps: number, log: Array<string>) =>
  Effect.forEach(Array.from({ length: steps }), () =>
    Effect.zipRight(
      Effect.sync(() => {
        const until = performance.now() + 1
        while (performance.now() < until) {
          // a step of a call's end: CPU without a wait
        }
      }),
      Effect.yieldNow()
    ), { discard: true }).pipe(Effect.zipRight(Effect.sync(() => log.push("background done"))))

describe("background scheduler", () => {
  it.live("a socket's data that arrives while background work is queued is read before that work finishes", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const { client, close } = yield* Effect.promise(() => connectedPair(log))
      yield* Effect.addFinalizer(() => Effect.promise(close))
      const work = yield* Effect.fork(inBackground(busyWork(40, log)))
      // Sent while the 40 ms of background work is queued: a webhook body or `start` frame.
      client.write("start")
      yield* work.await
      yield* Effect.promise(() => waitFor(() => log.includes("start")))
      expect(log).toEqual(["start", "background done"])
    }).pipe(Effect.scoped))

  it.live("background work is served between reads and completes while a client keeps the loop busy with I/O", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      // Ping-pong: every read is answered and the client sends again at once, so I/O is always ready.
      const { client, close } = yield* Effect.promise(() => connectedPair(log, (socket) => socket.write("pong")))
      yield* Effect.addFinalizer(() => Effect.promise(close))
      client.on("data", () => client.write("ping"))
      client.write("ping")
      const startedAt = performance.now()
      yield* inBackground(busyWork(20, log))
      const tookMs = performance.now() - startedAt
      expect(log.at(-1)).toBe("background done")
      // 20 ms of work: served between reads, not starved by them.
      expect(tookMs).toBeLessThan(2_000)
      expect(log.filter((entry) => entry.includes("ping")).length).toBeGreaterThan(0)
    }).pipe(Effect.scoped))
})

/** Polls `ready` on the loop's timers (the data may still be in flight after the work). */
const waitFor = async (ready: () => boolean) => {
  for (let i = 0; i < 200 && !ready(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
}
