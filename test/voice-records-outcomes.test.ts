import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { createTenant } from "./support/AgentFixtures.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { bearer, makeTestServer, request } from "./support/TestServer.js"
import { callRecord, recordCall } from "./support/VoiceRecordFixtures.js"

const get = (token: string, path: string) => request("GET", `/api/v1${path}`, { headers: bearer(token) })

layer(makeTestServer())("voice outcomes", (it) => {
  it.effect("lists, filters and reads canonical outcomes", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("vo")
      const now = Date.now()
      const resolved = yield* recordCall(callRecord("vo", "MZ-o1", { startedAt: new Date(now - 120_000), endedAt: new Date(now - 60_000) }))
      yield* recordCall(callRecord("vo", "MZ-o2", { resolution: "escalated", escalated: true, callType: "outbound" }))
      yield* recordCall(callRecord("vo", "MZ-o3", { resolution: "abandoned", status: "failed" }))

      const all = yield* get(token, "/voice-outcomes")
      expect(all.status).toBe(200)
      expectSpecSchema(all.body, "VoiceOutcomesListResponse")
      expect(all.body).toMatchObject({ ok: true, tenant: "vo", count: 3 })

      const escalated = yield* get(token, "/voice-outcomes?resolution=escalated")
      expect(escalated.body.outcomes.map((o: { stream_sid: string }) => o.stream_sid)).toEqual(["MZ-o2"])
      const outbound = yield* get(token, "/voice-outcomes?call_type=outbound")
      expect(outbound.body.count).toBe(1)
      const billable = yield* get(token, "/voice-outcomes?billing_status=pending_emit&billable_sku=voice_ai_resolution")
      expect(billable.body.outcomes.map((o: { stream_sid: string }) => o.stream_sid)).toEqual(["MZ-o1"])
      const paged = yield* get(token, "/voice-outcomes?limit=1&offset=1")
      expect(paged.body.outcomes.length).toBe(1)
      expect(paged.body.count).toBe(3)

      const byId = yield* get(token, `/voice-outcomes/${resolved.outcomeId}`)
      expect(byId.status).toBe(200)
      expectSpecSchema(byId.body, "VoiceOutcomeDetailResponse")
      expect(byId.body.outcome).toMatchObject({
        id: resolved.outcomeId,
        tenant_id: "vo",
        org_id: "org-vo",
        stream_sid: "MZ-o1",
        call_sid: "CAMZ-o1",
        resolution: "resolved",
        billing_status: "pending_emit",
        billable_sku: "voice_ai_resolution",
        outcome_source: "call",
        escalated: false,
        duration_seconds: 60,
        disposition: { status: "completed", resolution: "resolved", turn_count: 2 }
      })
      const byStream = yield* get(token, "/voice-outcomes/by-stream/MZ-o1")
      expect(byStream.status).toBe(200)
      expect(byStream.body.outcome.id).toBe(resolved.outcomeId)

      const badId = yield* get(token, "/voice-outcomes/not-a-uuid")
      expect(badId.status).toBe(400)
      expectSpecSchema(badId.body, "ErrorResponse")
      const missing = yield* get(token, "/voice-outcomes/00000000-0000-4000-8000-000000000000")
      expect(missing.status).toBe(404)
      expectSpecSchema(missing.body, "ErrorResponse")
      expect((yield* get(token, "/voice-outcomes/by-stream/MZ-none")).status).toBe(404)
      expect((yield* get(token, "/voice-outcomes?limit=0")).status).toBe(400)
    }))

  it.effect("aggregates stats and a timeseries over a window", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("vo-stats")
      const now = Date.now()
      const at = (minutesAgo: number, seconds: number) => ({
        startedAt: new Date(now - minutesAgo * 60_000 - seconds * 1000),
        endedAt: new Date(now - minutesAgo * 60_000)
      })
      yield* recordCall(callRecord("vo-stats", "MZ-s1", at(10, 60)))
      yield* recordCall(callRecord("vo-stats", "MZ-s2", { ...at(70, 120), resolution: "escalated", escalated: true }))
      yield* recordCall(callRecord("vo-stats", "MZ-s3", { ...at(130, 30), resolution: "abandoned" }))
      // Outside a 24h window.
      yield* recordCall(callRecord("vo-stats", "MZ-old", at(3 * 24 * 60, 30)))

      const stats = yield* get(token, "/voice-outcomes/stats")
      expect(stats.status).toBe(200)
      expectSpecSchema(stats.body, "VoiceOutcomeStatsResponse")
      expect(stats.body.stats).toMatchObject({
        total: 3,
        billable: 1,
        not_billable: 2,
        pending_emit: 1,
        emitted: 0,
        failed_billing: 0,
        escalated: 1,
        avg_duration_seconds: 70,
        sku_mix: [{ name: "voice_ai_resolution", count: 1 }],
        risk_mix: []
      })
      expect(stats.body.stats.resolution_mix).toEqual(expect.arrayContaining([
        { name: "resolved", count: 1 },
        { name: "escalated", count: 1 },
        { name: "abandoned", count: 1 }
      ]))
      const week = yield* get(token, "/voice-outcomes/stats?window=7d")
      expect(week.body.stats.total).toBe(4)
      const hour = yield* get(token, "/voice-outcomes/stats?window=1h")
      expect(hour.body.stats.total).toBe(1)

      const series = yield* get(token, "/voice-outcomes/timeseries?window=3h&bucket=1h")
      expect(series.status).toBe(200)
      expectSpecSchema(series.body, "VoiceOutcomeTimeseriesResponse")
      expect(series.body.timeseries).toMatchObject({ window: "3h", bucket: "1h" })
      const points = series.body.timeseries.points as Array<{ bucket_start: string; total: number; escalated: number }>
      expect(points.length).toBeGreaterThanOrEqual(3)
      expect(points.length).toBeLessThanOrEqual(4)
      expect(points.reduce((sum, p) => sum + p.total, 0)).toBe(3)
      expect(points.reduce((sum, p) => sum + p.escalated, 0)).toBe(1)
      for (const point of points) expect(Date.parse(point.bucket_start) % 3_600_000).toBe(0)
      const daily = yield* get(token, "/voice-outcomes/timeseries?window=7d&bucket=day")
      expect(daily.body.timeseries.points.reduce((sum: number, p: { total: number }) => sum + p.total, 0)).toBe(4)

      for (const query of ["window=forever", "window=0h", "window=400d", "bucket=10s", "window=30d&bucket=1m"]) {
        const res = yield* get(token, `/voice-outcomes/${query.includes("bucket") ? "timeseries" : "stats"}?${query}`)
        expect(res.status, query).toBe(400)
        expectSpecSchema(res.body, "ErrorResponse")
      }
    }))

  it.effect("never shows one tenant's outcomes to another", () =>
    Effect.gen(function*() {
      yield* createTenant("vo-a")
      const b = yield* createTenant("vo-b")
      const recorded = yield* recordCall(callRecord("vo-a", "MZ-iso"))
      expect((yield* get(b, `/voice-outcomes/${recorded.outcomeId}`)).status).toBe(404)
      expect((yield* get(b, "/voice-outcomes/by-stream/MZ-iso")).status).toBe(404)
      expect((yield* get(b, "/voice-outcomes")).body.count).toBe(0)
      expect((yield* get(b, "/voice-outcomes/stats")).body.stats.total).toBe(0)
    }))
})
