import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeServer from "../src/Http/NodeServer.js"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Fiber, FiberRef, HashMap, Option } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { WebSocket, WebSocketServer } from "ws"
import { openRealtime, type RealtimeSocket } from "../src/Media/RealtimeSocket.js"
import { takeUpgradeSocket } from "../src/Media/Upgrade.js"
import { within } from "./support/Bounded.js"
import { FakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { frame, listed, MediaSuite, promise, startCall, waitForLog } from "./support/MediaCalls.js"

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
      const server = yield* NodeServer.make(() => http.createServer(), { port: 0, host: "127.0.0.1" })
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

/** The root fibers that run for the stream `streamSid` (the call's own, and any it forked). */
const fibersOf = (streamSid: string) =>
  Effect.map(Fiber.roots, (roots) =>
    roots.filter((fiber) => HashMap.get(fiber.getFiberRef(FiberRef.currentLogAnnotations), "stream_sid").pipe(
      Option.exists((sid) => sid === streamSid)
    )))

/** The stream's one fiber once what it forked to open the upstream has finished (bounded by wall time). */
const callFiber = (streamSid: string) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      const fibers = yield* fibersOf(streamSid)
      if (fibers.length === 1) return fibers[0]!
      yield* Effect.sleep("20 millis")
    }
    throw new Error(`the call ${streamSid} did not settle on one fiber within 10 s`)
  })

/**
 * Effect keeps a suspended fiber's continuations in `_stack` (not part of its API): what this
 * counts is what a live call keeps on its fiber for its whole length.
 */
const framesOf = (fiber: Fiber.RuntimeFiber<unknown, unknown>) => (fiber as unknown as { readonly _stack: ReadonlyArray<unknown> })._stack.length

layer(MediaSuite(), { excludeTestServices: true })("what a live call keeps on its fiber", (it) => {
  it.effect("a handful of stack frames, and the services every call shares rather than a copy of its own", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(1, 100)], transcript: "Hello." })
      const first = yield* startCall()
      const second = yield* startCall()
      yield* promise(() => first.client.waitFor("the first call's greeting", () => first.client.of("media").length >= 1))
      yield* promise(() => second.client.waitFor("the second call's greeting", () => second.client.of("media").length >= 1))
      const a = yield* callFiber(first.streamSid)
      const b = yield* callFiber(second.streamSid)
      // Nested withSpan / annotateLogs / scoped / ensuring / catchTags around the call kept 28.
      expect(framesOf(a)).toBeLessThanOrEqual(6)
      expect(framesOf(b)).toBeLessThanOrEqual(6)
      // A span or scope provided around the call copied every service into a context of its own, per call.
      expect(a.currentContext).toBe(b.currentContext)
      // The calls are unaffected: each ends through its normal path and is recorded once.
      first.client.stop()
      second.client.stop()
      const logs = yield* Effect.all([waitForLog(first.callSid), waitForLog(second.callSid)])
      expect(logs.map((log) => log.end_reason)).toEqual(["stop", "stop"])
      expect(yield* listed(first.callSid)).toHaveLength(1)
      expect(yield* listed(second.callSid)).toHaveLength(1)
    }))
})
