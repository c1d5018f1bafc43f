import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { WebSocket } from "ws"
import { analysisToken, recordFinishedCall, startAnalysisFakes, SUMMARY } from "./support/CallAnalysisFixtures.js"
import { eventually } from "./support/Eventually.js"
import { bearer, request, serverSuite } from "./support/TestServer.js"
import { mediaStreamUrl } from "./support/TwilioMediaClient.js"

// The post-call analysis worker keeps out of call set-ups' way: while this replica is setting up
// a call (here a media stream waiting for its `start`), it claims nothing, up to
// ANALYSIS_SETUP_HOLD_MAX_MS; nothing is lost either way.

const { config, delivered, openai, seedTenants } = await startAnalysisFakes()

const CONFIG = {
  ...config,
  // A stream that never sends `start` stays a set-up in flight for the whole test.
  MEDIA_BOOTSTRAP_TIMEOUT_MS: "120000"
}

/** A media stream that upgrades and then says nothing: a call set-up this replica is still doing. */
const silentStream = Effect.acquireRelease(
  Effect.flatMap(mediaStreamUrl(), (url) =>
    Effect.async<WebSocket>((resume) => {
      const ws = new WebSocket(url)
      ws.once("open", () => resume(Effect.succeed(ws)))
      ws.once("error", (error) => resume(Effect.die(error)))
    })),
  (ws) => Effect.sync(() => ws.close())
)

const closed = (ws: WebSocket) =>
  Effect.promise(() => new Promise<void>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once("close", () => resolve()))))

const summaryOf = (tenantId: string, streamSid: string) =>
  Effect.map(
    request("GET", `/api/v1/voice-sessions/by-stream/${streamSid}`, { headers: bearer(analysisToken(tenantId)) }),
    (res) => res.body?.summary ?? null
  )

const completedEvents = (tenantId: string, streamSid: string) => delivered(tenantId, "voice.call.completed", streamSid)

serverSuite({ ...CONFIG, ANALYSIS_SETUP_HOLD_MAX_MS: "120000" }, { seed: seedTenants("hold-on") })("post-call analysis during call set-ups", (it) => {
  it.scoped("no analysis runs while a call is being set up; it runs, complete, once the set-up is done", () =>
    Effect.gen(function*() {
      const before = openai.requests.length
      const setUp = yield* silentStream
      yield* recordFinishedCall("hold-on", "CAhold1")
      // Many poll intervals (100 ms) go by: an analysis that did not wait would have asked the model by now.
      yield* Effect.sleep("1500 millis")
      expect(openai.requests.length - before).toBe(0)
      expect(yield* summaryOf("hold-on", "MZCAhold1")).toBeNull()
      expect(completedEvents("hold-on", "MZCAhold1")).toHaveLength(0)

      // The caller's stream goes away (its set-up ends): the analysis runs, and nothing of it is missing.
      setUp.close()
      yield* closed(setUp)
      const summary = yield* eventually(summaryOf("hold-on", "MZCAhold1"), (s) => s !== null, 15_000)
      expect(summary).toBe(SUMMARY)
      expect(openai.requests.length - before).toBe(1)
      const [completed] = yield* eventually(Effect.sync(() => completedEvents("hold-on", "MZCAhold1")), (l) => l.length > 0, 15_000)
      expect(completed.data).toMatchObject({ stream_sid: "MZCAhold1", summary: SUMMARY })
      const evaluation = yield* request("GET", "/api/v1/voice-session-evals/by-session/MZCAhold1", { headers: bearer(analysisToken("hold-on")) })
      expect(evaluation.body).toMatchObject({ source: "auto", score: 0.86 })
    }), { timeout: 60_000 })
})

serverSuite({ ...CONFIG, ANALYSIS_SETUP_HOLD_MAX_MS: "300" }, { seed: seedTenants("hold-bound") })("post-call analysis under set-ups that never end", (it) => {
  it.scoped("the wait is bounded: with a set-up in flight all along, the analysis is still done and its event still carries the summary", () =>
    Effect.gen(function*() {
      const setUp = yield* silentStream
      yield* recordFinishedCall("hold-bound", "CAbound1")
      const [completed] = yield* eventually(
        Effect.sync(() => completedEvents("hold-bound", "MZCAbound1")),
        (l) => l.length > 0,
        30_000
      )
      expect(completed.data).toMatchObject({ stream_sid: "MZCAbound1", summary: SUMMARY })
      expect(yield* summaryOf("hold-bound", "MZCAbound1")).toBe(SUMMARY)
      // ... while that call was still being set up.
      expect(setUp.readyState).toBe(WebSocket.OPEN)
    }), { timeout: 60_000 })
})
