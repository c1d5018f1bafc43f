import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { WebSocket, WebSocketServer } from "ws"
import { openRealtime, type RealtimeSocket } from "../src/Media/RealtimeSocket.js"
import { takeUpgradeSocket } from "../src/Media/Upgrade.js"

/**
 * What a live call keeps for its whole length (issue 11: memory per call): objects that only
 * served its set-up must be collectable while its sockets stay open.
 */

/** V8's `gc` (the technique of src/Health/MemoryReclaim.ts: the flag is read when a context is made). */
const collect = (() => {
  v8.setFlagsFromString("--expose-gc")
  try {
    return vm.runInNewContext("gc") as () => void
  } finally {
    v8.setFlagsFromString("--no-expose-gc")
  }
})()

/** A turn of the loop through its timers phase (where FinalizationRegistry callbacks get to run). */
const turn = () => new Promise((resolve) => setTimeout(resolve, 10))

/**
 * `promise`, or a failure naming the step after `ms`: a step that hangs on a loaded CI box says
 * which one it was instead of running into the test's timeout.
 */
const within = <A>(ms: number, what: string, promise: Promise<A>): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

/**
 * Watches objects for collection. A FinalizationRegistry rather than WeakRefs: a WeakRef keeps
 * its target alive until the job that made or read it ends.
 */
const watch = () => {
  const gone = new Set<string>()
  const registry = new FinalizationRegistry<string>((name) => gone.add(name))
  return {
    add: (target: object, name: string) => registry.register(target, name),
    /**
     * Whether `name`'s object is collected by full collections over up to 5 s (wall time, not a
     * count of collections: on a loaded box the finalizer's task may take a while to be run).
     */
    collected: async (name: string) => {
      const deadline = Date.now() + 5_000
      while (!gone.has(name) && Date.now() < deadline) {
        collect()
        await turn()
      }
      return gone.has(name)
    }
  }
}

/** Module level: a closure made inside the request's handler would keep the fiber itself. */
const echo = (socket: WebSocket) => socket.on("message", (data) => socket.send(data))

describe("what a live call does not keep", () => {
  it("the fiber that opened the upstream socket, once the socket is open", async () => {
    // Our own HTTP server, so the clean-up can close its connections rather than wait for them.
    const httpServer = http.createServer()
    const server = new WebSocketServer({ server: httpServer })
    await within(5_000, "listen", new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve)))
    const url = `ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}/v1/realtime`
    try {
      const watched = watch()
      let socket: RealtimeSocket | undefined
      await (async () => {
        const fiber = Effect.runFork(openRealtime(url, "sk-test", 5_000))
        watched.add(fiber, "opening fiber")
        socket = await within(10_000, "open the upstream socket", Effect.runPromise(Fiber.join(fiber)))
      })()
      expect(socket!.socket.destroyed).toBe(false)
      expect(await watched.collected("opening fiber")).toBe(true)
      // The socket still works: it stays open and closes on purpose.
      expect(socket!.socket.destroyed).toBe(false)
      socket!.close()
    } finally {
      for (const client of server.clients) client.terminate()
      server.close()
      httpServer.closeAllConnections()
      await within(5_000, "close the fake upstream", new Promise((resolve) => httpServer.close(resolve)))
    }
  })

  it.scoped("the upgrade request's fiber, once the socket is handed to ws", () =>
    Effect.gen(function*() {
      const server = yield* NodeHttpServer.make(() => http.createServer(), { port: 0, host: "127.0.0.1" })
      const wss = new WebSocketServer({ noServer: true })
      const watched = watch()
      yield* server.serve(Effect.withFiberRuntime((fiber) => {
        watched.add(fiber, "request fiber")
        return Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
          const raw = takeUpgradeSocket(request)
          wss.handleUpgrade(raw.incoming, raw.socket, raw.head, echo)
          return HttpServerResponse.empty({ status: 101 })
        })
      }))
      const client = new WebSocket(`ws://127.0.0.1:${(server.address as { port: number }).port}/media-stream`)
      yield* Effect.addFinalizer(() => Effect.sync(() => client.terminate()))
      yield* Effect.promise(() => new Promise((resolve, reject) => {
        client.once("open", resolve)
        client.once("error", reject)
      }))
      expect(yield* Effect.promise(() => watched.collected("request fiber"))).toBe(true)
      // The socket is unaffected.
      const answer = yield* Effect.promise(() =>
        new Promise<string>((resolve) => {
          client.once("message", (data) => resolve(String(data)))
          client.send("still here")
        })
      )
      expect(answer).toBe("still here")
      yield* Effect.promise(() => new Promise((resolve) => {
        client.once("close", resolve)
        client.close()
      }))
      wss.close()
    }))
})
