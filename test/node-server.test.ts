import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, RuntimeFlags, RuntimeFlagsPatch, Supervisor } from "effect"
import * as http from "node:http"
import * as NodeServer from "../src/Http/NodeServer.js"
import { within } from "./support/Bounded.js"

/** Counts every operation of the fibers it supervises (with operation supervision on). */
class Counting extends Supervisor.AbstractSupervisor<void> {
  ops = 0
  get value() {
    return Effect.void
  }
  override onEffect() {
    this.ops++
  }
}

const get = (port: number, method = "GET") =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: "/", method, agent: false }, (res) => {
      let body = ""
      res.on("data", (chunk: Buffer) => (body += chunk.toString()))
      res.on("end", () => resolve({ status: res.statusCode!, body }))
    })
    req.on("error", reject)
    req.end()
  })

const portOf = (server: { readonly address: unknown }) => (server.address as { readonly port: number }).port

describe("our node HTTP server (src/Http/NodeServer.ts)", () => {
  // Exact and load-independent. With request spans off (src/Server.ts while nothing exports
  // them) @effect/platform-node's server ran 75 operations for this request (the request
  // provided and the scope extended: two context `locally`s with their restores; the response's
  // end awaited); ours starts the fiber with its request and runs 18.
  it.scoped("answers a request in few runtime operations: no context provided or restored per request", () =>
    Effect.gen(function*() {
      const counting = new Counting()
      const server = yield* NodeServer.make(() => http.createServer(), { port: 0, host: "127.0.0.1" })
      yield* server.serve(Effect.succeed(HttpServerResponse.text("ok"))).pipe(
        Effect.locally(HttpMiddleware.currentTracerDisabledWhen, () => true),
        Effect.supervised(counting),
        Effect.withRuntimeFlagsPatch(RuntimeFlagsPatch.enable(RuntimeFlags.OpSupervision))
      )
      const port = portOf(server)
      yield* Effect.promise(() => get(port))
      const before = counting.ops
      const answer = yield* Effect.promise(() => get(port))
      expect(answer).toEqual({ status: 200, body: "ok" })
      expect(counting.ops - before).toBeLessThanOrEqual(25)
      // HEAD: the same status and headers, no body.
      expect(yield* Effect.promise(() => get(port, "HEAD"))).toEqual({ status: 200, body: "" })
    }))

  it.scoped("interrupts the handler when the client goes away before its answer", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const ended = yield* Deferred.make<Exit.Exit<unknown>>()
      const server = yield* NodeServer.make(() => http.createServer(), { port: 0, host: "127.0.0.1" })
      yield* server.serve(Effect.gen(function*() {
        yield* Deferred.succeed(started, undefined)
        // The app opts in to interruption, as the edge's routes do.
        yield* Effect.interruptible(Effect.never).pipe(Effect.onExit((exit) => Deferred.succeed(ended, exit)))
        return HttpServerResponse.text("never")
      }))
      const port = portOf(server)
      const req = http.request({ host: "127.0.0.1", port, path: "/", agent: false })
      req.on("error", () => {})
      req.end()
      yield* Deferred.await(started)
      req.destroy()
      const exit = yield* Effect.promise(() => within(10_000, "the handler's end", Effect.runPromise(Deferred.await(ended))))
      expect(Exit.isInterrupted(exit)).toBe(true)
    }))
})
