import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { createTenant } from "./support/AgentFixtures.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { bearer, makeTestServer, request } from "./support/TestServer.js"

/**
 * List pages are written from columns (src/Http/RowJson.ts; byte-for-byte checks in
 * test/row-json.test.ts); details still go through the response schemas. For the same row
 * both must say the same thing: awkward text (quotes, backslashes, newlines, control
 * characters, emoji), nulls, microsecond timestamps, nested jsonb.
 */
const AWKWARD = "a\"b\\c\nd\te\u0001f é 😀 </script>"

layer(makeTestServer())("list pages written from columns", (it) => {
  it.effect("equal the schema-encoded detail of the same rows", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("lj")
      const sql = yield* SqlClient.SqlClient
      const call = randomUUID()
      yield* sql`insert into call_logs (id, tenant_id, stream_sid, direction, from_number, first_seen_at, media_started_at,
          media_ended_at, transcript_length, function_call_count)
        values (${call}, 'lj', 'MZ-c1', 'inbound', ${AWKWARD}, '2026-01-01T00:00:00.999999Z', '2026-01-01T00:00:01.000500Z',
          '2026-01-01T00:01:02.123456Z', 3, 1)`
      const bare = randomUUID()
      yield* sql`insert into call_logs (id, tenant_id, stream_sid, direction, first_seen_at)
        values (${bare}, 'lj', 'MZ-c2', 'outbound', now())`
      const session = randomUUID()
      yield* sql`insert into voice_sessions (id, tenant_id, stream_id, status, agent_name, transcript, metadata, tags,
          duration_ms, started_at, ended_at)
        values (${session}, 'lj', 'MZ-lj', 'completed', ${AWKWARD},
          ${JSON.stringify([{ role: "user", content: AWKWARD, n: 1.5 }])}::jsonb,
          ${JSON.stringify({ nested: { list: [1, null, true, "x"] } })}::jsonb, ${[AWKWARD, "b"]}::text[],
          ${9_007_199_254}, '2026-01-01T00:00:00.000001Z', '2026-01-01T00:05:00.9999Z')`

      const list = yield* request("GET", "/api/v1/call-logs", { headers: bearer(token) })
      expect(list.status).toBe(200)
      expect(list.headers["content-type"]).toContain("application/json")
      expectSpecSchema(list.body, "CallLogsListResponse")
      for (const item of list.body.calls) {
        const detail = (yield* request("GET", `/api/v1/call-logs/${item.id}`, { headers: bearer(token) })).body.call
        const { from_number, ...rest } = item
        expect(from_number).toBe(detail.from_number ?? null)
        // The counts are stored columns the detail does not show; every other field must agree.
        for (const [key, value] of Object.entries(rest)) {
          if (key !== "function_call_count" && key !== "transcript_length") expect([key, value]).toEqual([key, detail[key] ?? null])
        }
      }
      const first = list.body.calls.find((c: { id: string }) => c.id === call)
      expect(first).toMatchObject({ from_number: AWKWARD, started_at: "2026-01-01T00:00:01.000Z", ended_at: "2026-01-01T00:01:02.123Z", duration_seconds: 61 })

      const sessions = yield* request("GET", "/api/v1/voice-sessions", { headers: bearer(token) })
      expect(sessions.status).toBe(200)
      for (const item of sessions.body.sessions) expectSpecSchema(item, "VoiceSession")
      expect(sessions.body.count).toBe(1)
      const detail = yield* request("GET", `/api/v1/voice-sessions/${session}`, { headers: bearer(token) })
      expect(sessions.body.sessions[0]).toEqual(detail.body)
      expect(detail.body).toMatchObject({ agent_name: AWKWARD, tags: [AWKWARD, "b"], duration_ms: 9_007_199_254, started_at: "2026-01-01T00:00:00.000Z" })
    }))
})
