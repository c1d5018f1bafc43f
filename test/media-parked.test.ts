import { describe, expect, it, layer } from "@effect/vitest"
import { Context, Effect, Exit, type Fiber, Layer, Scope, Supervisor } from "effect"
import { eventually } from "./support/Eventually.js"
import { FakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { MediaSuite, promise, sessions, startCall, waitForLog } from "./support/MediaCalls.js"
import { query, testDatabaseUrl } from "./support/TestDatabase.js"

/** Every fiber the service runs, tracked from its start (a supervisor on the whole server). */
class ServiceFibers extends Context.Tag("test/ServiceFibers")<ServiceFibers, Supervisor.Supervisor<Array<Fiber.RuntimeFiber<unknown, unknown>>>>() {}

const tracked = Layer.unwrapEffect(Effect.map(Supervisor.track, (fibers) =>
  Layer.merge(MediaSuite().pipe(Layer.provide(Supervisor.addSupervisor(fibers))), Layer.succeed(ServiceFibers, fibers))
))

const liveFibers = Effect.flatMap(Effect.flatMap(ServiceFibers, (fibers) => fibers.value), (fibers) => Effect.succeed(fibers.length))

const CALLS = 6

layer(tracked, { excludeTestServices: true })("a call past its set-up", (it) => {
  // A fiber parked for each call's length kept ~5 KB per live call (bench/RESULTS.md): the
  // service's fibers do not grow with its live calls.
  it.effect("runs on without a fiber of its own, and still ends through its normal path", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      fake.onResponseCreate = (connection) => connection.reply({ audio: [Buffer.alloc(160, 0x11)], transcript: "Hello." })
      const before = yield* liveFibers
      const calls: Array<Effect.Effect.Success<ReturnType<typeof startCall>>> = []
      for (let i = 0; i < CALLS; i++) calls.push(yield* startCall())
      for (const call of calls) yield* promise(() => call.client.waitFor("the greeting", () => call.client.of("media").length >= 1))
      const live = yield* eventually(sessions(), (list) => calls.every((call) => list.some((s) => s.stream_sid === call.streamSid)))
      expect(live.length).toBeGreaterThanOrEqual(CALLS)
      // Set-up fibers end right after the call is held; a background fiber may come and go.
      const during = yield* eventually(liveFibers, (n) => n - before <= 2, 10_000)
      expect(during - before).toBeLessThanOrEqual(2)

      for (const call of calls) call.client.stop()
      for (const call of calls) {
        expect((yield* promise(() => call.client.closed)).code).toBe(1000)
        expect(yield* waitForLog(call.callSid)).toMatchObject({ end_reason: "stop", stream_sid: call.streamSid })
      }
    }))
})

describe("shutdown", () => {
  it.scopedLive("ends the calls still live, each recorded once as stopped by the service, its ledger row gone", () =>
    Effect.gen(function*() {
      // The database outlives the server, so what the shutdown wrote can be read after it.
      const url = yield* testDatabaseUrl
      const scope = yield* Scope.make()
      const server = yield* Layer.buildWithScope(MediaSuite({}, { viaDatabaseUrl: () => Effect.succeed(url) }), scope)
      const calls = yield* Effect.provide(Effect.all([startCall(), startCall()]), server)
      yield* Effect.provide(
        eventually(sessions(), (list) => calls.every((call) => list.some((s) => s.stream_sid === call.streamSid))),
        server
      )

      yield* Scope.close(scope, Exit.void)

      for (const call of calls) expect((yield* promise(() => call.client.closed)).code).toBe(1000)
      const sids = calls.map((call) => call.callSid)
      const rows = yield* query<{ call_sid: string; end_reason: string; error_message: string }>(
        url,
        "select call_sid, end_reason, error_message from call_logs where call_sid = any($1) order by call_sid",
        [sids]
      )
      expect(rows).toEqual(sids.sort().map((call_sid) => ({
        call_sid,
        end_reason: "error",
        error_message: "the service stopped during the call"
      })))
      const held = yield* query(url, "select stream_sid from live_calls where stream_sid = any($1)", [calls.map((call) => call.streamSid)])
      expect(held).toEqual([])
    }))
})
