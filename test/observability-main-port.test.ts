import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { parseOpenMetrics, valueOf } from "./support/OpenMetricsText.js"
import { adminHeaders, makeTestServer, request } from "./support/TestServer.js"

layer(makeTestServer({ METRICS_ENABLED: "true" }), { excludeTestServices: true })("METRICS_ENABLED on the main port", (it) => {
  it.effect("/metrics answers the admin key only (x-admin-key or bearer), in OpenMetrics text", () =>
    Effect.gen(function*() {
      expect((yield* request("GET", "/metrics")).status).toBe(401)
      expect((yield* request("GET", "/metrics", { headers: { "x-admin-key": "not-the-key" } })).status).toBe(401)
      for (const headers of [adminHeaders, { authorization: `Bearer ${adminHeaders["x-admin-key"]}` }]) {
        const res = yield* request("GET", "/metrics", { headers })
        expect(res.status).toBe(200)
        expect(res.headers["content-type"]).toContain("application/openmetrics-text")
        const samples = parseOpenMetrics(res.text)
        expect(valueOf(samples, "voice_replica_ready")).toBe(1)
        expect(samples.every((s) => s.labels.replica !== undefined)).toBe(true)
      }
    }))
})
