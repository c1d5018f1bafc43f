import { afterAll, expect } from "@effect/vitest"
import { Clock, Effect, Layer } from "effect"
import { WebSocket } from "ws"
import { CallRecords, type CompletedCall } from "../src/CallLogs/CallRecords.js"
import { eventually } from "./support/Eventually.js"
import { startFakeOpenAIResponses } from "./support/FakeOpenAIResponses.js"
import { startWebhookReceiver } from "./support/FakeWebhookReceiver.js"
import { adminHeaders, bearer, request, serverSuite } from "./support/TestServer.js"
import { mediaStreamUrl } from "./support/TwilioMediaClient.js"

// The post-call analysis worker keeps out of call set-ups' way: while this replica is setting up
// a call (here a media stream waiting for its `start`), it claims nothing, up to
// ANALYSIS_SETUP_HOLD_MAX_MS; nothing is lost either way.

const openai = await startFakeOpenAIResponses()
const receiver = await startWebhookReceiver()
afterAll(() => Promise.all([openai.close(), receiver.close()]))

const SUMMARY = "Caller asked where order ORD-77 is; the agent said it shipped yesterday."
const CONFIG = {
  OPENAI_API_KEY: "sk-test-analysis-setups",
  OPENAI_BASE_URL: openai.baseUrl,
  ANALYSIS_POLL_INTERVAL_MS: "100",
  OUTBOX_POLL_INTERVAL_MS: "200",
  // A stream that never sends `start` stays a set-up in flight for the whole test.
  MEDIA_BOOTSTRAP_TIMEOUT_MS: "120000",
  ALLOW_PRIVATE_OUTBOUND_URLS: "true"
}
const token = (tenant: string) => `${tenant}-bearer-token-0123456789`

const tenant = (id: string) =>
  Layer.effectDiscard(Effect.gen(function*() {
    const res = yield* request("PUT", `/api/v1/admin/tenants/${id}`, {
      headers: adminHeaders,
      json: { tenant_id: id, auth_token: token(id), webhook_url: receiver.url(`/${id}`) }
    })
    if (res.status !== 200) return yield* Effect.dieMessage(`${id}: ${res.status} ${res.text}`)
  }))

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

/** A call another caller finished a moment ago, as the media bridge records it. */
const recordFinishedCall = (tenantId: string, callSid: string) =>
  Effect.gen(function*() {
    const at = new Date(yield* Clock.currentTimeMillis)
    const call: CompletedCall = {
      tenantId,
      streamSid: `MZ${callSid}`,
      callSid,
      direction: "inbound",
      from: "+15555550101",
      to: "+15555550199",
      agentVersionId: null,
      model: "gpt-realtime",
      voice: "alloy",
      startedAt: new Date(at.getTime() - 60_000),
      endedAt: at,
      endReason: "end_call_tool",
      errorMessage: null,
      transcript: [
        { role: "assistant", content: "Hello, how can I help?", timestamp: at },
        { role: "user", content: "Where is my order ORD-77?", timestamp: at },
        { role: "assistant", content: "It shipped yesterday and arrives Friday.", timestamp: at }
      ],
      functionCalls: [],
      turnLatencies: [],
      escalated: false,
      escalationReason: null
    }
    yield* (yield* CallRecords).recordCompletedCall(call)
  }).pipe(Effect.orDie)

const summaryOf = (tenantId: string, streamSid: string) =>
  Effect.map(
    request("GET", `/api/v1/voice-sessions/by-stream/${streamSid}`, { headers: bearer(token(tenantId)) }),
    (res) => res.body?.summary ?? null
  )

const completedEvents = (tenantId: string, streamSid: string) =>
  receiver.on(`/${tenantId}`).map((r) => JSON.parse(r.body)).filter((body) =>
    body.event === "voice.call.completed" && body.data.stream_sid === streamSid
  )

serverSuite({ ...CONFIG, ANALYSIS_SETUP_HOLD_MAX_MS: "120000" }, { seed: tenant("hold-on") })("post-call analysis during call set-ups", (it) => {
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
      const evaluation = yield* request("GET", "/api/v1/voice-session-evals/by-session/MZCAhold1", { headers: bearer(token("hold-on")) })
      expect(evaluation.body).toMatchObject({ source: "auto", score: 0.86 })
    }), { timeout: 60_000 })
})

serverSuite({ ...CONFIG, ANALYSIS_SETUP_HOLD_MAX_MS: "300" }, { seed: tenant("hold-bound") })("post-call analysis under set-ups that never end", (it) => {
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
