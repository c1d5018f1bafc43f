import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Scope } from "effect"
import { eventually } from "./support/Eventually.js"
import { MediaSuite, promise, sessions, startCall } from "./support/MediaCalls.js"
import { query, testDatabaseUrl } from "./support/TestDatabase.js"

/**
 * A call past its set-up has no fiber of its own (src/Media/CallClosing.ts): shutdown reaches
 * it through the media streams' registry, and its scope closes as an interrupted fiber's did.
 */
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
