import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { CallRecords, type CompletedCall } from "../src/CallLogs/CallRecords.js"
import { newCallSid, putTenant, twilioWebhook } from "./support/FakeTwilioServer.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { request, serverSuite } from "./support/TestServer.js"

const acme = { authorization: "Bearer acme-bearer-token-0123456789" }
const other = { authorization: "Bearer other-bearer-token-0123456789" }
const HOUR = 3600_000
const now = Date.now()
const ago = (ms: number) => new Date(now - ms)

const call = (
  streamSid: string,
  startedAgo: number,
  seconds: number,
  overrides: Partial<CompletedCall> = {}
): CompletedCall => ({
  tenantId: "acme",
  streamSid,
  callSid: newCallSid(),
  direction: "inbound",
  from: "+15551110001",
  to: "+15550008000",
  agentVersionId: null,
  model: "gpt-realtime",
  voice: "verse",
  startedAt: ago(startedAgo),
  endedAt: new Date(now - startedAgo + seconds * 1000),
  endReason: "caller_hangup",
  errorMessage: null,
  transcript: [{ role: "user", content: "Just checking in.", timestamp: ago(startedAgo) }],
  functionCalls: [],
  turnLatencies: [],
  escalated: false,
  escalationReason: null,
  ...overrides
})

const latencies = (llm: ReadonlyArray<number>, e2e: ReadonlyArray<number>) =>
  llm.map((value, i) => ({ llmFirstTokenMs: value, firstAudioMs: e2e[i] ?? null }))

const list = (query: string, headers = acme) => request("GET", `/api/v1/call-logs${query}`, { headers })
const streams = (body: { calls: ReadonlyArray<{ stream_sid: string | null }> }) => body.calls.map((c) => c.stream_sid)

/** An outbound call that never connected: known only from Twilio's status callbacks. */
const busySid = newCallSid()

/** Five calls of acme over two months (and one that never connected), one of another tenant. */
const Calls = Layer.effectDiscard(
  Effect.gen(function*() {
    yield* putTenant("acme", { org_id: "org-acme" })
    yield* putTenant("other", {})
    const records = yield* CallRecords
    yield* records.recordCompletedCall(call("MZ1", 1 * HOUR, 60, {
      transcript: [{ role: "user", content: "I want a REFUND for 50% of it", timestamp: ago(HOUR) }],
      functionCalls: [{ name: "end_call", arguments: {}, result: {}, durationMs: 3, timestamp: ago(HOUR) }],
      turnLatencies: latencies([100, 200, 300], [400, 500, 600])
    }))
    yield* records.recordCompletedCall(call("MZ2", 2 * HOUR, 120, {
      from: "+15551110002",
      escalated: true,
      escalationReason: "asked for a human",
      turnLatencies: latencies([1000], [2000])
    }))
    yield* records.recordCompletedCall(call("MZ4", 20 * 24 * HOUR, 10, {
      direction: "outbound",
      from: "+15550008000",
      to: "+15551110004",
      endReason: "upstream_failure",
      errorMessage: "realtime upstream closed",
      turnLatencies: latencies([50], [80])
    }))
    yield* records.recordCompletedCall(call("MZ5", 60 * 24 * HOUR, 300))
    yield* records.recordCompletedCall({ ...call("MZX", HOUR, 30), tenantId: "other" })
    // A console test call (stored `web`) next to a phone call, for a tenant with a webhook endpoint.
    yield* putTenant("lab", { webhook_url: "http://127.0.0.1:9/lab" })
    yield* records.recordCompletedCall({ ...call("MZL1", 2 * HOUR, 20), tenantId: "lab" })
    yield* records.recordCompletedCall({
      ...call("MZL2", HOUR, 20),
      tenantId: "lab",
      callSid: `WB${"0".repeat(32)}`,
      direction: "web",
      from: "console:admin",
      to: null
    })
    // The tenant has no Twilio token, so the status callback needs no signature.
    const busy = yield* twilioWebhook("/api/v1/call-status?tenant=acme", {
      CallSid: busySid,
      CallStatus: "busy",
      Direction: "outbound-api",
      From: "+15550008000",
      To: "+15551110003"
    })
    if (busy.status !== 200) return yield* Effect.dieMessage(`busy call: ${busy.status} ${busy.text}`)
  })
)

serverSuite({ ALLOW_PRIVATE_OUTBOUND_URLS: "true", OUTBOX_WORKER_ENABLED: "false" }, { seed: Calls })("call logs API", (it) => {
  it.effect("a console test call is inbound on the wire, told apart by its caller and the `web` filter", () =>
    Effect.gen(function*() {
      const lab = { authorization: "Bearer lab-bearer-token-0123456789" }
      const all = yield* list("", lab)
      expect(all.body.calls.map((c: { stream_sid: string; direction: string; from_number: string }) => [c.stream_sid, c.direction, c.from_number]))
        .toEqual([["MZL2", "inbound", "console:admin"], ["MZL1", "inbound", "+15551110001"]])
      expectSpecSchema(all.body, "CallLogsListResponse")
      expect(streams((yield* list("?direction=inbound", lab)).body)).toEqual(["MZL2", "MZL1"])
      expect(streams((yield* list("?direction=web", lab)).body)).toEqual(["MZL2"])
      expect(streams((yield* list("?direction=outbound", lab)).body)).toEqual([])
      const detail = yield* request("GET", `/api/v1/call-logs/${all.body.calls[0].id}`, { headers: lab })
      expect(detail.body.call).toMatchObject({ direction: "inbound", call_sid: `WB${"0".repeat(32)}`, from_number: "console:admin" })
      expectSpecSchema(detail.body, "CallLogDetailResponse")
      // `voice.call.completed` says what the call log says.
      const sql = yield* SqlClient.SqlClient
      const events = yield* sql<{ payload: { data: { stream_sid: string; direction: string } } }>`
        select payload from webhook_outbox where tenant_id = 'lab' and event = 'voice.call.completed'`
      expect(events.map((e) => [e.payload.data.stream_sid, e.payload.data.direction]).sort())
        .toEqual([["MZL1", "inbound"], ["MZL2", "inbound"]])
      events.forEach((e) => expectSpecSchema(e.payload.data, "WebhookCallCompletedPayload"))
    }))


  it.effect("lists newest first with every filter of the spec", () =>
    Effect.gen(function*() {
      const all = yield* list("")
      expect(all.status).toBe(200)
      expect(all.body).toMatchObject({ ok: true, tenant: "acme", count: 5, next_cursor: null })
      expect(streams(all.body)).toEqual([null, "MZ1", "MZ2", "MZ4", "MZ5"])
      expectSpecSchema({ ...all.body, calls: all.body.calls.slice(1) }, "CallLogsListResponse")
      expect(all.body.calls[1]).toMatchObject({
        direction: "inbound",
        status: "completed",
        outcome: "answered",
        duration_seconds: 60,
        function_call_count: 1,
        transcript_length: 1,
        escalated: false
      })

      const cases: Array<[string, Array<string | null>]> = [
        ["?status=completed", ["MZ1", "MZ5"]],
        ["?status=failed", ["MZ4"]],
        ["?outcome=busy", [null]],
        ["?outcome=answered&direction=inbound", ["MZ1", "MZ2", "MZ5"]],
        ["?direction=outbound", [null, "MZ4"]],
        ["?escalated=true", ["MZ2"]],
        ["?escalated=false&direction=inbound", ["MZ1", "MZ5"]],
        ["?from_number=%2B15551110002", ["MZ2"]],
        ["?to_number=%2B15551110004", ["MZ4"]],
        [`?from_date=${encodeURIComponent(ago(3 * HOUR).toISOString())}`, [null, "MZ1", "MZ2"]],
        [`?to_date=${encodeURIComponent(ago(3 * HOUR).toISOString())}`, ["MZ4", "MZ5"]],
        ["?min_duration=60&max_duration=120", ["MZ1", "MZ2"]],
        ["?transcript_search=refund", ["MZ1"]],
        ["?transcript_search=50%25", ["MZ1"]],
        ["?transcript_search=%25%25", []],
        [`?call_sid=${busySid}`, [null]]
      ]
      for (const [query, expected] of cases) {
        const res = yield* list(query)
        expect(res.status, query).toBe(200)
        expect(streams(res.body), query).toEqual(expected)
      }
    }))

  it.effect("keyset cursor pages through everything exactly once; offset still works", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      let cursor: string | null = null
      let pages = 0
      do {
        const res: { body: any } = yield* list(`?limit=2${cursor === null ? "" : `&cursor=${cursor}`}`)
        seen.push(...res.body.calls.map((c: { id: string }) => c.id))
        cursor = res.body.next_cursor
        pages++
      } while (cursor !== null && pages < 10)
      const all = yield* list("")
      expect(seen).toEqual(all.body.calls.map((c: { id: string }) => c.id))
      expect(pages).toBe(3)
      // The cursor wins over offset.
      const first = yield* list("?limit=2")
      const second = yield* list(`?limit=2&offset=4&cursor=${first.body.next_cursor}`)
      expect(streams(second.body)).toEqual(["MZ2", "MZ4"])
      expect(streams((yield* list("?limit=2&offset=1")).body)).toEqual(["MZ1", "MZ2"])
    }))

  it.effect("bad filters are 400 with a message; limit is capped at 100", () =>
    Effect.gen(function*() {
      for (const query of ["?status=done", "?outcome=maybe", "?direction=sideways", "?from_date=yesterday", "?cursor=abc", "?limit=101", "?limit=0", "?min_duration=x"]) {
        const res = yield* list(query)
        expect(res.status, query).toBe(400)
        expectSpecSchema(res.body, "ErrorResponse")
      }
      expect((yield* list("?status=done")).body.error).toContain("status must be one of")
      expect((yield* list("")).status).toBe(200)
      expect((yield* request("GET", "/api/v1/call-logs")).status).toBe(401)
    }))

  it.effect("detail has the transcript and function calls; another tenant's call is 404", () =>
    Effect.gen(function*() {
      const mz1 = (yield* list("?transcript_search=refund")).body.calls[0]
      const detail = yield* request("GET", `/api/v1/call-logs/${mz1.id}`, { headers: acme })
      expect(detail.status).toBe(200)
      expectSpecSchema(detail.body, "CallLogDetailResponse")
      expect(detail.body.call).toMatchObject({
        id: mz1.id,
        tenant_id: "acme",
        stream_sid: "MZ1",
        transcript: [{ role: "user", content: "I want a REFUND for 50% of it" }],
        function_calls: [{ name: "end_call", duration_ms: 3 }]
      })
      const foreign = yield* request("GET", `/api/v1/call-logs/${mz1.id}`, { headers: other })
      expect(foreign.status).toBe(404)
      expectSpecSchema(foreign.body, "ErrorResponse")
      expect((yield* request("GET", "/api/v1/call-logs/not-a-uuid", { headers: acme })).status).toBe(404)
    }))

  it.effect("stats count statuses, outcomes and the last 24 hours", () =>
    Effect.gen(function*() {
      const res = yield* request("GET", "/api/v1/call-logs/stats", { headers: acme })
      expect(res.status).toBe(200)
      expectSpecSchema(res.body, "CallStatsResponse")
      expect(res.body).toEqual({
        ok: true,
        tenant: "acme",
        stats: {
          total_calls: 5,
          completed_calls: 2,
          escalated_calls: 1,
          failed_calls: 1,
          answered_calls: 4,
          voicemail_calls: 0,
          no_answer_calls: 0,
          busy_calls: 1,
          failed_outcome_calls: 0,
          calls_last_24h: 3,
          answer_rate: 0.8,
          avg_duration_seconds: (60 + 120 + 10 + 300) / 4
        }
      })
    }))

  it.effect("latency: percentiles of per-call percentiles, slowest calls and a timeseries per window", () =>
    Effect.gen(function*() {
      const day = yield* request("GET", "/api/v1/call-logs/latency?samples=1", { headers: acme })
      expect(day.status).toBe(200)
      expectSpecSchema(day.body, "CallLatencyResponse")
      expect(day.body.stats).toMatchObject({
        window: "24h",
        call_sample_count: 2,
        turn_sample_count: 4,
        avg_llm_first_token_ms: 600,
        p50_llm_first_token_ms: 600,
        max_llm_first_token_ms: 1000,
        max_e2e_first_audio_ms: 2000
      })
      // per-call e2e p95: 590 (400/500/600) and 2000 -> p95 across calls = 590 + 0.95 * 1410
      expect(day.body.stats.p95_e2e_first_audio_ms).toBeCloseTo(1929.5, 6)
      expect(day.body.slowest).toHaveLength(1)
      expect(day.body.slowest[0]).toMatchObject({ stream_sid: "MZ2", e2e_p95_ms: 2000, turn_count: 1, duration_seconds: 120 })
      expect(day.body.timeseries.bucket).toBe("hour")
      expect(day.body.timeseries.points.map((p: { call_count: number }) => p.call_count)).toEqual([1, 1])

      const counts = (body: { stats: { call_sample_count: number } }) => body.stats.call_sample_count
      const week = (yield* request("GET", "/api/v1/call-logs/latency?window=7d", { headers: acme })).body
      const month = (yield* request("GET", "/api/v1/call-logs/latency?window=30d", { headers: acme })).body
      const all = (yield* request("GET", "/api/v1/call-logs/latency?window=all", { headers: acme })).body
      expect([counts(week), counts(month), counts(all)]).toEqual([2, 3, 3])
      expect(month.timeseries).toMatchObject({ window: "30d", bucket: "day" })
      expect(month.slowest.map((s: { stream_sid: string }) => s.stream_sid)).toEqual(["MZ2", "MZ1", "MZ4"])
      expect((yield* request("GET", "/api/v1/call-logs/latency?window=1y", { headers: acme })).status).toBe(400)
      expect((yield* request("GET", "/api/v1/call-logs/latency?samples=51", { headers: acme })).status).toBe(400)
      const empty = yield* request("GET", "/api/v1/call-logs/latency", { headers: other })
      expect(empty.body.stats.call_sample_count).toBe(0)
      expect(empty.body.stats.p50_llm_first_token_ms).toBeNull()
    }))
})
