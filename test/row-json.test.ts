import { SqlClient } from "@effect/sql"
import { describe, expect, it as plain, layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { encodeCursor } from "../src/CallLogs/CallLogs.js"
import { CallLogsListResponse, CallLogSummary } from "../src/CallLogs/Schemas.js"
import { jsonBytes } from "../src/Http/JsonBytes.js"
import { compactJsonb } from "../src/Http/JsonbText.js"
import { isoOfTimestamptz } from "../src/Database/TimestampText.js"
import { rowJson } from "../src/Http/RowJson.js"
import { VoiceSession, VoiceSessionsListResponse } from "../src/VoiceSessions/Api.js"
import { createTenant } from "./support/AgentFixtures.js"
import { awkwardJson } from "./support/AwkwardJson.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { bearer, makeTestServer, request } from "./support/TestServer.js"

/**
 * List pages are written column by column (src/Http/RowJson.ts) with jsonb passed through as
 * PostgreSQL's text (src/Http/JsonbText.ts). The oracle is the schema path: the same rows read
 * with `select *` through the service's SQL client (pg's JSON.parse, its timestamp parser),
 * decoded and encoded by the wire schemas and written by JSON.stringify. Bodies must be equal
 * byte for byte, for seeded random rows: awkward text, nulls, every enum value, odd numbers
 * and keys inside jsonb, a large transcript.
 */

const { int, jsonText, nullable, pick, PIECES, random: rnd, text, timestamp, transcript } = awkwardJson(20261202)

describe("compactJsonb", () => {
  plain("keeps text without spaces as it is", () => {
    expect(compactJsonb("[]")).toBe("[]")
    expect(compactJsonb("{\"a\":1}")).toBe("{\"a\":1}")
  })
})

describe("JsonBytes", () => {
  plain("writes strings as JSON.stringify does, past the buffer's first size", () => {
    const strings = [...PIECES, "", "\ud800", "a\udc00b", "\udc00\ud800", "é".repeat(100_000), "x".repeat(70_000) + "\n"]
    for (const value of strings) expect(jsonBytes((out) => out.string(value)).toString("utf8")).toBe(JSON.stringify(value))
    // One buffer for them all: it grows (64 KB at first) and keeps what was written.
    const all = jsonBytes((out) => {
      for (const value of strings) {
        out.string(value)
        out.ascii(",")
      }
    })
    expect(all.toString("utf8")).toBe(strings.map((value) => `${JSON.stringify(value)},`).join(""))
  })
})

describe("rowJson", () => {
  const fields = { name: Schema.String, n: Schema.Number, ok: Schema.Boolean, at: Schema.NullOr(Schema.String) }
  const json = rowJson(fields, { name: "text", n: "int", ok: "boolean", at: "timestamp" })
  const rows = [{ name: "a\"\u2028", n: 3, ok: true, at: null }, { name: "b", n: -1, ok: false, at: "2026-01-01 00:00:00.25+00" }]
  /** The reference: each row field by field in the schema's order, as JSON.stringify writes each value. */
  const row = (r: Record<string, unknown>) =>
    `{"name":${JSON.stringify(r.name)},"n":${String(r.n)},"ok":${r.ok === true ? "true" : "false"},` +
    `"at":${r.at === null ? "null" : JSON.stringify(isoOfTimestamptz(r.at as string))}}`
  const written = (list: ReadonlyArray<Record<string, unknown>>) => `[${list.map(row).join(",")}]`
  /** The rows as the list pages read them: arrays in the select list's order, after `leading` columns of the statement's own. */
  const asValues = (list: ReadonlyArray<Record<string, unknown>>, leading: ReadonlyArray<unknown> = []) =>
    list.map((r) => [...leading, r.name, r.n, r.ok, r.at])
  const array = (list: ReadonlyArray<Record<string, unknown>>, end = list.length) =>
    jsonBytes((out) => json.rowsOfValues(out, asValues(list), 0, end)).toString("utf8")

  plain("a page of select-list rows is what the field writers write", () => {
    expect(array(rows)).toBe(written(rows))
    expect(array(rows, 1)).toBe(written(rows.slice(0, 1)))
    expect(array(rows, 0)).toBe("[]")
    // A timestamp column is PostgreSQL's text, written in the API's.
    expect(array(rows)).toContain(`"at":"2026-01-01T00:00:00.250Z"`)
  })

  plain("rows with the statement's own columns first are written from `first` on; a field's position is its place in the schema", () => {
    const counted = asValues(rows, [2, false])
    expect(jsonBytes((out) => json.rowsOfValues(out, counted, 2)).toString("utf8")).toBe(written(rows))
    expect([json.position("name"), json.position("at")]).toEqual([0, 3])
    expect(json.selectList).toBe("name, n, ok, at::text as at")
  })
})

layer(makeTestServer())("list pages written from columns", (it) => {
  it.effect("jsonb text compacted equals JSON.stringify(JSON.parse(text)) for PostgreSQL's own output", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const inputs = Array.from({ length: 2_000 }, () => jsonText(4))
      const rows = yield* sql<{ t: string }>`select (x::jsonb)::text as t from unnest(${inputs}::text[]) as x`
      expect(rows.length).toBe(inputs.length)
      for (const { t } of rows) expect([t, compactJsonb(t)]).toEqual([t, JSON.stringify(JSON.parse(t))])
      // The same text written as bytes: compacted in the buffer, or `compactJsonb`'s where it rewrites.
      for (const { t } of rows) expect([t, jsonBytes((out) => out.jsonb(t)).toString("utf8")]).toEqual([t, JSON.stringify(JSON.parse(t))])
    }))

  it.effect("call-log pages equal the schema-encoded rows byte for byte", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("rj-calls")
      const sql = yield* SqlClient.SqlClient
      for (let i = 0; i < 120; i++) {
        // Milliseconds, as every writer stores them (the cursor carries milliseconds).
        const firstSeen = new Date(Date.parse(timestamp())).toISOString()
        const mediaStarted = nullable(() => new Date(Date.parse(firstSeen) + int(5000)).toISOString())
        const mediaEnded = mediaStarted === null || rnd() < 0.3 ? null : new Date(Date.parse(mediaStarted) + int(600_000)).toISOString()
        yield* sql`insert into call_logs (id, tenant_id, call_sid, stream_sid, direction, from_number, to_number, first_seen_at,
            media_started_at, media_ended_at, media_status, twilio_status, twilio_duration_seconds, twilio_ended_at, answered_by,
            escalated, transcript_length, function_call_count)
          values (${randomUUID()}, 'rj-calls', ${nullable(() => text() + i)}, ${nullable(() => text() + i)},
            ${pick(["inbound", "outbound", "web"])}, ${nullable(() => text())}, ${nullable(() => text())}, ${firstSeen},
            ${mediaStarted}, ${mediaEnded}, ${pick([null, "failed", "completed"])},
            ${pick([null, "busy", "no-answer", "canceled", "failed", "completed", "in-progress"])},
            ${nullable(() => int(100_000))}, ${nullable(() => timestamp())},
            ${pick([null, "human", "machine_start", "machine_end_beep", "fax", "unknown"])}, ${rnd() < 0.2}, ${int(1000)}, ${int(50)})`
      }
      const seen = { direction: new Set<unknown>(), status: new Set<unknown>(), outcome: new Set<unknown>() }
      const storedDirections = new Set<unknown>()
      let cursor: string | null = null
      let after: CallLogSummary | null = null
      let pages = 0
      do {
        const query: string = `limit=50${cursor === null ? "" : `&cursor=${cursor}`}`
        const hot = yield* request("GET", `/api/v1/call-logs?${query}`, { headers: bearer(token) })
        const api = yield* request("GET", `/call-logs?${query}`, { headers: bearer(token) })
        expect(hot.status).toBe(200)
        expect(api.text).toBe(hot.text)
        // A call that never opened a media stream has no stream SID: null here, a required string in the spec.
        expectSpecSchema({
          ...hot.body,
          calls: hot.body.calls.map((call: CallLogSummary) => ({ ...call, stream_sid: call.stream_sid ?? "" }))
        }, "CallLogsListResponse")

        // The same keyset as the service's (CallLogs/Repo.ts), from the previous page's last row.
        const rows: ReadonlyArray<unknown> = yield* sql`select * from call_logs where tenant_id = 'rj-calls'
            and ${after === null ? sql`true` : sql`(started_at, id) < (${after.started_at}::timestamptz, ${after.id}::uuid)`}
            order by started_at desc, id desc limit 51`
        // A console test call (stored `web`) is listed as `inbound`: the spec's directions (CallLogs/WireDirection.ts).
        const stored = rows.slice(0, 50).map((row: any) => {
          storedDirections.add(row.direction)
          return row.direction === "web" ? { ...row, direction: "inbound" } : row
        })
        const calls: ReadonlyArray<CallLogSummary> = yield* Schema.decodeUnknown(Schema.Array(CallLogSummary))(stored)
        const last: CallLogSummary = calls[calls.length - 1]!
        const expected = new CallLogsListResponse({
          calls,
          count: calls.length,
          next_cursor: rows.length > 50 ? encodeCursor(last.started_at, last.id) : null,
          ok: true,
          tenant: "rj-calls"
        })
        expect(hot.text).toBe(JSON.stringify(yield* Schema.encode(CallLogsListResponse)(expected)))
        for (const call of calls) {
          seen.direction.add(call.direction)
          seen.status.add(call.status)
          seen.outcome.add(call.outcome)
        }
        cursor = hot.body.next_cursor
        after = last
        pages++
      } while (cursor !== null)
      expect(pages).toBe(3)
      expect([...storedDirections].sort()).toEqual(["inbound", "outbound", "web"])
      expect([...seen.direction].sort()).toEqual(["inbound", "outbound"])
      expect([...seen.status].sort()).toEqual(["busy", "canceled", "completed", "escalated", "failed", "in_progress", "no_answer"])
      expect(seen.outcome).toEqual(new Set([null, "answered", "voicemail", "no_answer", "busy", "failed"]))
    }))

  it.effect("voice-session pages equal the schema-encoded rows byte for byte", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("rj-sessions")
      const sql = yield* SqlClient.SqlClient
      for (let i = 0; i < 90; i++) {
        const started = timestamp()
        yield* sql`insert into voice_sessions (id, tenant_id, org_id, stream_id, call_sid, agent_name, call_type, customer_phone,
            model, voice, status, transcript, function_calls, vad_events, metadata, tags, turn_count, summary, sentiment, rating,
            duration_ms, escalated, started_at, ended_at, created_at, updated_at)
          values (${randomUUID()}, 'rj-sessions', ${nullable(() => text())}, ${text(20) + i}, ${nullable(() => text())},
            ${nullable(() => text())}, ${nullable(() => text())}, ${nullable(() => text())}, ${nullable(() => text())},
            ${nullable(() => text())}, ${pick(["active", "completed", "failed", text()])},
            ${i === 7 ? transcript(3_000) : rnd() < 0.5 ? transcript(int(8)) : jsonText(5)}::jsonb, ${jsonText(4)}::jsonb,
            ${jsonText(3)}::jsonb, ${jsonText(4)}::jsonb,
            ${i % 9 === 0 ? ["vip", null, "x,null,y"] : Array.from({ length: int(4) }, () => text())}::text[],
            ${int(100)}, ${nullable(() => text(200))}, ${nullable(() => text())}, ${nullable(() => int(6))},
            ${nullable(() => pick([0, int(10_000_000), 9_007_199_254_740_991]))}, ${rnd() < 0.5}, ${started},
            ${nullable(() => timestamp())}, ${timestamp()}, ${timestamp()})`
      }
      let nullTagged = 0
      for (const query of ["limit=50", "limit=50&offset=50", "limit=50&sort=asc", "limit=10&offset=200", "limit=5&search=%22"]) {
        const hot = yield* request("GET", `/api/v1/voice-sessions?${query}`, { headers: bearer(token) })
        const api = yield* request("GET", `/voice-sessions?${query}`, { headers: bearer(token) })
        expect(hot.status).toBe(200)
        expect(api.text).toBe(hot.text)
        // A session still active has no end: null here, a required string in the spec (docs/spec-deviations.md).
        for (const item of hot.body.sessions) expectSpecSchema({ ...item, ended_at: item.ended_at ?? item.started_at }, "VoiceSession")
        nullTagged += hot.body.sessions.filter((item: any) => item.tags.includes("vip")).length

        const params = new URLSearchParams(query)
        const limit = Number(params.get("limit"))
        const offset = Number(params.get("offset") ?? 0)
        const search = params.get("search")
        const where = search === null
          ? sql`tenant_id = 'rj-sessions'`
          : sql`tenant_id = 'rj-sessions' and (customer_phone ilike ${`%${search}%`} or agent_name ilike ${`%${search}%`}
              or summary ilike ${`%${search}%`} or transcript::text ilike ${`%${search}%`})`
        const order = params.get("sort") === "asc" ? sql`asc` : sql`desc`
        const rows = yield* sql`select * from voice_sessions where ${where} order by started_at ${order}, id limit ${limit} offset ${offset}`
        const [{ count }] = yield* sql<{ count: number }>`select count(*)::int as count from voice_sessions where ${where}`
        const expected = new VoiceSessionsListResponse({
          count: count!,
          ok: true,
          // A NULL tag (text[] holds one; no writer of ours stores it) is no string: left out.
          sessions: yield* Schema.decodeUnknown(Schema.Array(VoiceSession))(
            rows.map((row: any) => ({ ...row, tags: row.tags.filter((tag: unknown) => tag !== null) }))
          ),
          tenant: "rj-sessions"
        })
        expect(expected.sessions.length).toBe(Math.max(0, Math.min(limit, expected.count - offset)))
        expect(hot.text).toBe(JSON.stringify(yield* Schema.encode(VoiceSessionsListResponse)(expected)))
      }
      expect(nullTagged).toBeGreaterThan(0)
    }))
})
