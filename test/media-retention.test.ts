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

/** Active Node timers (ref'd or not) of this process. */
const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length

/** The root fibers that run for the stream `streamSid` (the call's own, and any it forked). */
const fibersOf = (streamSid: string) =>
  Effect.map(Fiber.roots, (roots) =>
    roots.filter((fiber) => HashMap.get(fiber.getFiberRef(FiberRef.currentLogAnnotations), "stream_sid").pipe(
      Option.exists((sid) => sid === streamSid)
    )))

/** Waits (bounded by wall time) until the stream `streamSid` runs no fiber: its set-up is over. */
const noFiberLeft = (streamSid: string) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      const fibers = yield* fibersOf(streamSid)
      if (fibers.length === 0) return fibers
      yield* Effect.sleep("20 millis")
    }
    return yield* fibersOf(streamSid)
  })

layer(MediaSuite(), { excludeTestServices: true })("what a live call keeps", (it) => {
  // A fiber parked for the call's length kept ~5 KB per live call (its references, stack and
  // observers: bench/RESULTS.md); before that, nested withSpan / annotateLogs / scoped around it
  // kept 28 stack frames and a copy of every service per call.
  it.effect("no fiber of its own once set up: the call runs on its sockets, and ends through its normal path", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(1, 100)], transcript: "Hello." })
      const first = yield* startCall()
      const second = yield* startCall()
      yield* promise(() => first.client.waitFor("the first call's greeting", () => first.client.of("media").length >= 1))
      yield* promise(() => second.client.waitFor("the second call's greeting", () => second.client.of("media").length >= 1))
      expect(yield* noFiberLeft(first.streamSid)).toEqual([])
      expect(yield* noFiberLeft(second.streamSid)).toEqual([])
      // The calls are unaffected: each still hears the model, ends through its normal path and is recorded once.
      first.client.media(frame(2))
      yield* promise(() => fake.waitFor("the caller's audio", () => first.upstream.appended.length >= 1))
      first.client.stop()
      second.client.stop()
      const logs = yield* Effect.all([waitForLog(first.callSid), waitForLog(second.callSid)])
      expect(logs.map((log) => log.end_reason)).toEqual(["stop", "stop"])
      expect(yield* listed(first.callSid)).toHaveLength(1)
      expect(yield* listed(second.callSid)).toHaveLength(1)
    }))

  // A Node Timeout per call for its max duration (with its arguments) was ~0.23 KB per live call.
  it.effect("no timer of its own: the calls' max durations share one", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(1, 100)], transcript: "Hello." })
      const first = yield* startCall()
      yield* promise(() => first.client.waitFor("the first call's greeting", () => first.client.of("media").length >= 1))
      yield* noFiberLeft(first.streamSid)
      const before = timers()
      const more: Array<typeof first> = []
      for (let i = 0; i < 4; i++) more.push(yield* startCall())
      for (const call of more) {
        yield* promise(() => call.client.waitFor("a call's greeting", () => call.client.of("media").length >= 1))
        yield* noFiberLeft(call.streamSid)
      }
      // A timer per call was +4 here (other timers come and go, so the bound is loose).
      expect(timers() - before).toBeLessThan(more.length)
      for (const call of [first, ...more]) call.client.stop()
      const logs = yield* Effect.all([first, ...more].map((call) => waitForLog(call.callSid)))
      expect(logs.map((log) => log.end_reason)).toEqual(["stop", "stop", "stop", "stop", "stop"])
    }))
})
