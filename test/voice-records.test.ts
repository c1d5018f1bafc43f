import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { VoiceRecords } from "../src/VoiceSessions/VoiceRecords.js"
import { createTenant } from "./support/AgentFixtures.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { bearer, makeTestServer, request } from "./support/TestServer.js"
import { callRecord, recordCall } from "./support/VoiceRecordFixtures.js"

const api = (token: string, method: "GET" | "POST", path: string, json?: unknown) =>
  request(method, `/api/v1${path}`, { headers: bearer(token), ...(json === undefined ? {} : { json }) })

layer(makeTestServer())("voice sessions", (it) => {
  it.effect("creates a session, refuses a second one for the stream, and reads it back", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("vs")
      const created = yield* api(token, "POST", "/voice-sessions", {
        stream_id: "MZ-create-1",
        call_sid: "CA-create-1",
        agent_name: "Ava",
        customer_phone: "+15555550123",
        duration_ms: 142_000,
        tags: ["vip"],
        transcript: [{ role: "user", content: "hello" }],
        metadata: { source: "test" }
      })
      expect(created.status).toBe(201)
      expectSpecSchema(created.body, "VoiceSession")
      expect(created.body).toMatchObject({
        tenant_id: "vs",
        org_id: "org-vs",
        stream_id: "MZ-create-1",
        status: "completed",
        tags: ["vip"],
        turn_count: 1,
        duration_ms: 142_000,
        function_calls: [],
        vad_events: [],
        metadata: { source: "test" }
      })
      expect(Date.parse(created.body.ended_at) - Date.parse(created.body.started_at)).toBe(142_000)

      const duplicate = yield* api(token, "POST", "/voice-sessions", { stream_id: "MZ-create-1" })
      expect(duplicate.status).toBe(409)
      expectSpecSchema(duplicate.body, "ErrorResponse")
      expect(duplicate.body.code).toBe("CONFLICT")

      const byId = yield* api(token, "GET", `/voice-sessions/${created.body.id}`)
      expect(byId.status).toBe(200)
      expectSpecSchema(byId.body, "VoiceSession")
      expect(byId.body).toEqual(created.body)
      const byStream = yield* api(token, "GET", "/voice-sessions/by-stream/MZ-create-1")
      expect(byStream.status).toBe(200)
      expect(byStream.body.id).toBe(created.body.id)

      for (const path of ["/voice-sessions/00000000-0000-4000-8000-000000000000", "/voice-sessions/not-a-uuid", "/voice-sessions/by-stream/MZ-none"]) {
        const res = yield* api(token, "GET", path)
        expect(res.status, path).toBe(404)
        expectSpecSchema(res.body, "ErrorResponse")
      }
    }))

  it.effect("answers 400 with a message for bad session input", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("vs-bad")
      const cases: ReadonlyArray<[unknown, string]> = [
        [{}, "stream_id"],
        [{ stream_id: "  " }, "stream_id"],
        [{ stream_id: "MZ1", duration_ms: -5 }, "duration_ms"],
        [{ stream_id: "MZ1", tags: "vip" }, "tags"]
      ]
      for (const [body, word] of cases) {
        const res = yield* api(token, "POST", "/voice-sessions", body)
        expect(res.status, JSON.stringify(body)).toBe(400)
        expectSpecSchema(res.body, "ErrorResponse")
        expect(res.body.error).toContain(word)
      }
      const badQuery = yield* api(token, "GET", "/voice-sessions?started_after=yesterday")
      expect(badQuery.status).toBe(400)
      expect(badQuery.body.error).toContain("started_after")
      const badSort = yield* api(token, "GET", "/voice-sessions?sort=sideways")
      expect(badSort.status).toBe(400)
      const badLimit = yield* api(token, "GET", "/voice-sessions?limit=500")
      expect(badLimit.status).toBe(400)
    }))

  it.effect("lists with status, search, started_after, sort and paging", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("vs-list")
      const now = Date.now()
      yield* recordCall(callRecord("vs-list", "MZ-l1", { startedAt: new Date(now - 300_000), endedAt: new Date(now - 250_000), summary: "Refund for a blender" }))
      yield* recordCall(callRecord("vs-list", "MZ-l2", { startedAt: new Date(now - 200_000), endedAt: new Date(now - 150_000), status: "failed", resolution: "failed" }))
      yield* recordCall(callRecord("vs-list", "MZ-l3", {
        startedAt: new Date(now - 100_000),
        endedAt: new Date(now - 50_000),
        customerPhone: "+15555559999",
        transcript: [{ role: "user", content: "my Toaster broke", timestamp: new Date().toISOString() }]
      }))
      const streams = (body: any) => body.sessions.map((s: { stream_id: string }) => s.stream_id)

      const all = yield* api(token, "GET", "/voice-sessions")
      expect(all.status).toBe(200)
      expect(all.body).toMatchObject({ ok: true, tenant: "vs-list", count: 3 })
      for (const session of all.body.sessions) expectSpecSchema(session, "VoiceSession")
      expect(streams(all.body)).toEqual(["MZ-l3", "MZ-l2", "MZ-l1"])

      const asc = yield* api(token, "GET", "/voice-sessions?sort=asc&limit=2")
      expect(streams(asc.body)).toEqual(["MZ-l1", "MZ-l2"])
      expect(asc.body.count).toBe(3)
      const page2 = yield* api(token, "GET", "/voice-sessions?sort=asc&limit=2&offset=2")
      expect(streams(page2.body)).toEqual(["MZ-l3"])

      const failed = yield* api(token, "GET", "/voice-sessions?status=failed")
      expect(streams(failed.body)).toEqual(["MZ-l2"])
      const bySummary = yield* api(token, "GET", "/voice-sessions?search=BLENDER")
      expect(streams(bySummary.body)).toEqual(["MZ-l1"])
      const byTranscript = yield* api(token, "GET", "/voice-sessions?search=toaster")
      expect(streams(byTranscript.body)).toEqual(["MZ-l3"])
      const byPhone = yield* api(token, "GET", `/voice-sessions?search=${encodeURIComponent("5555559999")}`)
      expect(streams(byPhone.body)).toEqual(["MZ-l3"])
      const literalPercent = yield* api(token, "GET", `/voice-sessions?search=${encodeURIComponent("%")}`)
      expect(literalPercent.body.count).toBe(0)
      const after = new Date(now - 150_000).toISOString()
      const recent = yield* api(token, "GET", `/voice-sessions?started_after=${encodeURIComponent(after)}`)
      expect(streams(recent.body)).toEqual(["MZ-l3"])
    }))

  it.effect("records a finished call once, in the caller's transaction", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("vs-rec")
      const first = yield* recordCall(callRecord("vs-rec", "MZ-rec-1", { callLogId: "11111111-1111-4111-8111-111111111111" }))
      const replay = yield* recordCall(callRecord("vs-rec", "MZ-rec-1", { status: "failed", resolution: "failed" }))
      expect(replay).toEqual(first)
      const session = yield* api(token, "GET", "/voice-sessions/by-stream/MZ-rec-1")
      expect(session.body).toMatchObject({ id: first.sessionId, status: "completed", turn_count: 2, call_sid: "CAMZ-rec-1" })
      const outcome = yield* api(token, "GET", "/voice-outcomes/by-stream/MZ-rec-1")
      expect(outcome.body.outcome).toMatchObject({ id: first.outcomeId, resolution: "resolved", billing_status: "pending_emit" })

      // A session created as "active" through the API is completed by the call's record.
      const active = yield* api(token, "POST", "/voice-sessions", { stream_id: "MZ-rec-2", status: "active" })
      expect(active.status).toBe(201)
      expect(active.body.ended_at).toBeNull()
      const done = yield* recordCall(callRecord("vs-rec", "MZ-rec-2"))
      expect(done.sessionId).toBe(active.body.id)
      const completed = yield* api(token, "GET", `/voice-sessions/${active.body.id}`)
      expect(completed.body.status).toBe("completed")
      expectSpecSchema(completed.body, "VoiceSession")

      // Rolled back with the caller's transaction: nothing is left behind.
      const sql = yield* SqlClient.SqlClient
      const records = yield* VoiceRecords
      const rolledBack = yield* sql.withTransaction(
        Effect.zipRight(records.recordCallSession(callRecord("vs-rec", "MZ-rec-3")), Effect.fail("abort" as const))
      ).pipe(Effect.exit)
      expect(Exit.isFailure(rolledBack)).toBe(true)
      const none = yield* api(token, "GET", "/voice-sessions/by-stream/MZ-rec-3")
      expect(none.status).toBe(404)
      const noOutcome = yield* api(token, "GET", "/voice-outcomes/by-stream/MZ-rec-3")
      expect(noOutcome.status).toBe(404)
    }))

  it.effect("never shows one tenant's sessions to another", () =>
    Effect.gen(function*() {
      const a = yield* createTenant("vs-iso-a")
      const b = yield* createTenant("vs-iso-b")
      const created = yield* api(a, "POST", "/voice-sessions", { stream_id: "MZ-iso" })
      expect(created.status).toBe(201)
      expect((yield* api(b, "GET", `/voice-sessions/${created.body.id}`)).status).toBe(404)
      expect((yield* api(b, "GET", "/voice-sessions/by-stream/MZ-iso")).status).toBe(404)
      expect((yield* api(b, "GET", "/voice-sessions")).body.count).toBe(0)
      // The same stream id is free in another tenant.
      expect((yield* api(b, "POST", "/voice-sessions", { stream_id: "MZ-iso" })).status).toBe(201)
      expect((yield* request("GET", "/api/v1/voice-sessions")).status).toBe(401)
    }))
})
