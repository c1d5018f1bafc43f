import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { eventuallyHolds } from "./support/Eventually.js"
import { listed, MediaSuite, promise, sessions, startCall } from "./support/MediaCalls.js"

const heartbeatAgeMs = (streamSid: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      sql<{ age_ms: number }>`select (extract(epoch from now() - heartbeat_at) * 1000)::int as age_ms
                              from live_calls where stream_sid = ${streamSid}`,
      (rows) => rows[0]?.age_ms ?? null
    ))

layer(MediaSuite({ MEDIA_HEARTBEAT_SECONDS: "1", MEDIA_REAP_AFTER_SECONDS: "2" }), { excludeTestServices: true })(
  "the live-call ledger's heartbeat",
  (it) => {
    it.effect("a call outliving the reap interval keeps its row renewed and is not reaped", () =>
      Effect.gen(function*() {
        const call = yield* startCall()
        // Twice the reap interval: without the beat the row goes stale and the reaper records the call as failed.
        yield* Effect.sleep("4500 millis")
        const age = yield* heartbeatAgeMs(call.streamSid)
        expect(age).not.toBeNull()
        expect(age!).toBeLessThan(2_000)
        expect((yield* sessions()).map((s) => s.stream_sid)).toEqual([call.streamSid])
        expect(yield* listed(call.callSid)).toEqual([])

        call.client.stop()
        expect((yield* promise(() => call.client.closed)).code).toBe(1000)
        const logs = yield* eventuallyHolds(listed(call.callSid), (calls) => calls.length === 1)
        expect(logs[0].status).not.toBe("failed")
      }))
  }
)
