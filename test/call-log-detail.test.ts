import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { CallLog, CallLogDetailResponse } from "../src/CallLogs/Schemas.js"
import { VoiceSession } from "../src/VoiceSessions/Api.js"
import { createTenant } from "./support/AgentFixtures.js"
import { awkwardJson } from "./support/AwkwardJson.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { bearer, makeTestServer, request } from "./support/TestServer.js"

/**
 * `GET /api/v1/call-logs/{id}` and `/api/v1/voice-sessions/{id}` (and `/by-stream/{id}`) are
 * written from the detail statement's columns (src/CallLogs/DetailJson.ts, Http/RowJson.ts).
 * The oracle is the schema path every detail took before: the row read with `select *` through
 * the service's SQL client (pg's JSON.parse and timestamp parser), decoded by the wire schema,
 * encoded with the response schema and written by JSON.stringify. Bodies must be equal byte for
 * byte, through the hot route and through HttpApi (the legacy alias), for awkward rows; a row
 * the schema refuses is still refused.
 */

const { int, jsonText, nullable, pick, random, text, timestamp, transcript } = awkwardJson(20261204)

/** Transcript entries: the service's shape, extra keys (dropped by the schema), or ones the schema refuses. */
const transcriptText = (i: number): string => {
  switch (i % 6) {
    case 0:
      return transcript(int(8))
    case 1:
      return `[${Array.from({ length: int(4) }, () => `{"role": ${JSON.stringify(text())}, "content": ${JSON.stringify(text(30))},
        "timestamp": ${JSON.stringify(text())}, "n": ${pick(["1.50", "1e21", "10"])}, "10": ${jsonText(2)}, "__proto__": {"x": 1}}`).join(", ")}]`
    case 2:
      return "[]"
    case 3:
      return i === 3 ? transcript(2_000) : transcript(3)
    case 4:
      return `[{"role": "user", "content": ${JSON.stringify(text())}, "timestamp": "t", ${JSON.stringify(text(3))}: ${jsonText(3)}}]`
    default:
      return transcript(1)
  }
}

/** Deep nesting, as a tool could return it. */
const deep = (depth: number) => `${"[".repeat(depth)}{"10": 1.50, "a": "${"é".repeat(3)}"}${"]".repeat(depth)}`

/** Function call entries: the service's shape with awkward arguments and results, optional fields absent, null or odd. */
const functionCallsText = (): string =>
  `[${
    Array.from({ length: int(4) }, () => {
      const fields = [
        `"name": ${JSON.stringify(text())}`,
        `"timestamp": ${JSON.stringify(text())}`,
        `"arguments": ${random() < 0.1 ? deep(40) : jsonText(4)}`,
        ...(random() < 0.5 ? [`"result": ${jsonText(4)}`] : []),
        ...(random() < 0.6 ? [`"duration_ms": ${pick(["null", "0", "150", "-3", "2.0", "1234567890123456", "1e3"])}`] : []),
        ...(random() < 0.2 ? [`"extra": ${jsonText(2)}`] : [])
      ]
      return `{${fields.join(", ")}}`
    }).join(", ")
  }]`

const insertCall = (tenantId: string, i: number, overrides: { transcript?: string; functionCalls?: string; answeredBy?: string } = {}) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const id = randomUUID()
    const firstSeen = new Date(Date.parse(timestamp())).toISOString()
    const mediaStarted = nullable(() => new Date(Date.parse(firstSeen) + int(5000)).toISOString())
    const mediaEnded = mediaStarted === null || random() < 0.3 ? null : timestamp()
    return Effect.as(
      sql`insert into call_logs (id, tenant_id, call_sid, stream_sid, direction, from_number, to_number, model, voice,
          system_prompt_key, first_seen_at, media_started_at, media_ended_at, media_status, error_message, escalated,
          escalation_reason, transcript, function_calls, summary, twilio_status, twilio_duration_seconds, twilio_ended_at,
          answered_by, recording_url, created_at, updated_at)
        values (${id}, ${tenantId}, ${nullable(() => text() + i)}, ${nullable(() => text() + i)}, ${pick(["inbound", "outbound", "web"])},
          ${nullable(() => text())}, ${nullable(() => text())}, ${nullable(() => text())}, ${nullable(() => text())},
          ${nullable(() => text())}, ${firstSeen}, ${mediaStarted}, ${mediaEnded}, ${pick([null, "failed", "completed"])},
          ${nullable(() => text(60))}, ${random() < 0.2}, ${nullable(() => text())},
          ${overrides.transcript ?? transcriptText(i)}::jsonb, ${overrides.functionCalls ?? functionCallsText()}::jsonb,
          ${nullable(() => text(200))}, ${pick([null, "busy", "no-answer", "canceled", "failed", "completed", "in-progress"])},
          ${nullable(() => int(100_000))}, ${nullable(() => timestamp())},
          ${overrides.answeredBy ?? pick([null, "human", "machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax", "unknown"])},
          ${nullable(() => text())}, ${timestamp()}, ${timestamp()})`,
      id
    )
  })

/** What the schema path wrote for the call (null when the schema refuses its row). */
const schemaDetail = (id: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql`select * from call_logs where id = ${id}`
    // A console test call (stored `web`) shows the spec's `inbound` (CallLogs/WireDirection.ts).
    const call = yield* Effect.either(Schema.decodeUnknown(CallLog)(row.direction === "web" ? { ...row, direction: "inbound" } : row))
    if (call._tag === "Left") return null
    return JSON.stringify(yield* Schema.encode(CallLogDetailResponse)(new CallLogDetailResponse({ ok: true, call: call.right })))
  })

/** What the schema path wrote for the session (null when the schema refuses its row). */
const schemaSession = (id: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql`select * from voice_sessions where id = ${id}`
    // A NULL tag (text[] holds one; no writer of ours stores it) is no string: left out.
    const tags = (row.tags as ReadonlyArray<unknown>).filter((tag) => tag !== null)
    const session = yield* Effect.either(Schema.decodeUnknown(VoiceSession)({ ...row, tags }))
    return session._tag === "Left" ? null : JSON.stringify(yield* Schema.encode(VoiceSession)(session.right))
  })

/** The spec's required strings the service leaves null until known (docs/spec-deviations.md). */
const specCall = (body: { call: Record<string, unknown> }) => ({
  ...body,
  call: { ...body.call, stream_sid: body.call.stream_sid ?? "", ended_at: body.call.ended_at ?? body.call.started_at }
})

layer(makeTestServer())("details written from columns", (it) => {
  it.effect("call-log details equal the schema path's bodies byte for byte", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("cld-a")
      const otherToken = yield* createTenant("cld-b")
      const ids: Array<string> = []
      for (let i = 0; i < 90; i++) ids.push(yield* insertCall("cld-a", i))
      // Rows the schema refuses: the detail is refused as before (a 500), never written differently.
      const refused = [
        yield* insertCall("cld-a", 1000, { transcript: `[{"role": "user", "content": 5, "timestamp": "t"}]` }),
        yield* insertCall("cld-a", 1001, { transcript: `{"role": "user"}` }),
        yield* insertCall("cld-a", 1002, { transcript: `["user"]` }),
        yield* insertCall("cld-a", 1003, { functionCalls: `[{"name": "n", "timestamp": "t", "arguments": 1, "duration_ms": 1.5}]` }),
        yield* insertCall("cld-a", 1004, { functionCalls: `[{"name": null, "timestamp": "t", "arguments": 1}]` }),
        yield* insertCall("cld-a", 1005, { answeredBy: "machine_maybe" })
      ]
      // A row it accepts though the fast writers leave it to it: an integer written as 2.0, and a
      // missing `arguments`, which the spec requires: written as null.
      const noArguments = yield* insertCall("cld-a", 1006, { functionCalls: `[{"name": "n", "timestamp": "t", "duration_ms": 2.0}]` })
      ids.push(noArguments)

      const sql = yield* SqlClient.SqlClient
      const stored = yield* sql<{ id: string; direction: string }>`select id, direction from call_logs where tenant_id = 'cld-a'`
      const directions = new Map(stored.map((row) => [row.id, row.direction]))
      let accepted = 0
      let webSeen = 0
      for (const id of [...ids, ...refused]) {
        const expected = yield* schemaDetail(id)
        const hot = yield* request("GET", `/api/v1/call-logs/${id}`, { headers: bearer(token) })
        const api = yield* request("GET", `/call-logs/${id}`, { headers: bearer(token) })
        if (expected === null) {
          expect([id, hot.status, api.status]).toEqual([id, 500, 500])
          continue
        }
        accepted++
        expect([id, hot.status, hot.headers["content-type"]]).toEqual([id, 200, "application/json"])
        expect(hot.text).toBe(expected)
        expect(api.text).toBe(expected)
        expectSpecSchema(specCall(hot.body), "CallLogDetailResponse")
        if (id === noArguments) expect(hot.body.call.function_calls).toEqual([{ name: "n", timestamp: "t", duration_ms: 2, arguments: null }])
        if (directions.get(id) === "web") webSeen++
        // Another tenant's key never reads it.
        expect((yield* request("GET", `/api/v1/call-logs/${id}`, { headers: bearer(otherToken) })).status).toBe(404)
      }
      expect([accepted, refused.length]).toEqual([ids.length, 6])
      // Console test calls were among them, each shown `inbound` (validated against the spec's enum above).
      expect(webSeen).toBeGreaterThan(0)

      for (const missing of [randomUUID(), "not-a-uuid"]) {
        for (const path of [`/api/v1/call-logs/${missing}`, `/call-logs/${missing}`]) {
          const notFound = yield* request("GET", path, { headers: bearer(token) })
          expect([path, notFound.status]).toEqual([path, 404])
          expectSpecSchema(notFound.body, "ErrorResponse")
        }
      }
    }))

  it.effect("voice-session details equal the schema path's bodies byte for byte, by id and by stream", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("vsd-a")
      const otherToken = yield* createTenant("vsd-b")
      const sql = yield* SqlClient.SqlClient
      const sessions: Array<{ id: string; streamId: string }> = []
      for (let i = 0; i < 60; i++) {
        const id = randomUUID()
        const streamId = `MZ${i}-${randomUUID()}`
        sessions.push({ id, streamId })
        yield* sql`insert into voice_sessions (id, tenant_id, org_id, stream_id, call_sid, agent_name, call_type, customer_phone,
            model, voice, status, transcript, function_calls, vad_events, metadata, tags, turn_count, summary, sentiment, rating,
            duration_ms, escalated, started_at, ended_at, created_at, updated_at)
          values (${id}, 'vsd-a', ${nullable(() => text())}, ${streamId}, ${nullable(() => text())},
            ${nullable(() => text())}, ${nullable(() => text())}, ${nullable(() => text())}, ${nullable(() => text())},
            ${nullable(() => text())}, ${pick(["active", "completed", "failed", text()])},
            ${i === 3 ? transcript(2_000) : i % 7 === 0 ? deep(60) : random() < 0.5 ? transcript(int(8)) : jsonText(5)}::jsonb,
            ${jsonText(4)}::jsonb, ${jsonText(3)}::jsonb, ${jsonText(4)}::jsonb, ${Array.from({ length: int(4) }, () => text())}::text[],
            ${int(100)}, ${nullable(() => text(200))}, ${nullable(() => text())}, ${nullable(() => int(6))},
            ${nullable(() => pick([0, int(10_000_000), 9_007_199_254_740_991]))}, ${random() < 0.5}, ${timestamp()},
            ${nullable(() => timestamp())}, ${timestamp()}, ${timestamp()})`
      }
      // A NULL tag (text[] holds one; no writer of ours stores it) is left out; a tag that reads
      // ",null," is a tag.
      for (const [i, tags] of [["a", null], ["x,null,y", "[null]"]].entries()) {
        const id = randomUUID()
        const streamId = `MZ-tags-${i}`
        sessions.push({ id, streamId })
        yield* sql`insert into voice_sessions (id, tenant_id, stream_id, status, tags, started_at)
          values (${id}, 'vsd-a', ${streamId}, 'completed', ${tags}::text[], now())`
      }
      for (const { id, streamId } of sessions) {
        const expected = yield* schemaSession(id)
        for (const path of [`/api/v1/voice-sessions/${id}`, `/voice-sessions/${id}`, `/api/v1/voice-sessions/by-stream/${streamId}`]) {
          const found = yield* request("GET", path, { headers: bearer(token) })
          if (expected === null) {
            expect([path, found.status]).toEqual([path, 500])
            continue
          }
          expect([path, found.status, found.headers["content-type"]]).toEqual([path, 200, "application/json"])
          expect(found.text).toBe(expected)
          if (streamId === "MZ-tags-0") expect(found.body.tags).toEqual(["a"])
          // A session still active has no end: null here, a required string in the spec (docs/spec-deviations.md).
          expectSpecSchema({ ...found.body, ended_at: found.body.ended_at ?? found.body.started_at }, "VoiceSession")
          expect((yield* request("GET", path, { headers: bearer(otherToken) })).status).toBe(404)
        }
      }
      for (const path of [`/api/v1/voice-sessions/${randomUUID()}`, "/api/v1/voice-sessions/not-a-uuid", "/voice-sessions/not-a-uuid", "/api/v1/voice-sessions/by-stream/MZ-none"]) {
        const notFound = yield* request("GET", path, { headers: bearer(token) })
        expect([path, notFound.status]).toEqual([path, 404])
        expectSpecSchema(notFound.body, "ErrorResponse")
      }
    }))
})
