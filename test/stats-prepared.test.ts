import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { createTenant } from "./support/AgentFixtures.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { bearer, makeTestServer, request } from "./support/TestServer.js"

/** Which statistic a statement serves, by the rollup it reads. */
const statistic = (statement: string) =>
  statement.includes("call_log_hourly") ? "call-logs/stats"
  : statement.includes("voice_session_eval_hourly") ? "voice-session-evals/stats"
  : statement.includes("generate_series") ? "voice-outcomes/timeseries"
  : statement.includes("voice_outcome_hourly") ? "voice-outcomes/stats"
  : undefined

/**
 * Each statistics endpoint answers with one statement that PostgreSQL plans once per
 * connection: a named prepared statement, the same text for every tenant, window and bucket,
 * which writes the response's JSON itself. One pool connection: the statements the requests
 * prepared are the ones this test reads back.
 */
layer(makeTestServer({ DATABASE_POOL_MAX: "1" }), { timeout: 60_000 })("statistics as prepared statements", (it) => {
  it.effect("one named statement per statistic, whatever the tenant, window or bucket", () =>
    Effect.gen(function*() {
      const tokens = [yield* createTenant("sp-a"), yield* createTenant("sp-b")]
      const paths = [
        ["/call-logs/stats", "CallStatsResponse"],
        ["/voice-session-evals/stats", "VoiceSessionEvalStats"],
        ["/voice-outcomes/stats?window=7d", "VoiceOutcomeStatsResponse"],
        ["/voice-outcomes/stats?window=90m", "VoiceOutcomeStatsResponse"],
        ["/voice-outcomes/timeseries?window=24h&bucket=1h", "VoiceOutcomeTimeseriesResponse"],
        ["/voice-outcomes/timeseries?window=30d&bucket=1d", "VoiceOutcomeTimeseriesResponse"]
      ] as const
      for (const token of tokens) {
        for (const [path, schema] of paths) {
          const res = yield* request("GET", `/api/v1${path}`, { headers: bearer(token) })
          expect(res.status, path).toBe(200)
          expectSpecSchema(res.body, schema)
        }
      }
      const sql = yield* SqlClient.SqlClient
      const prepared = yield* sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`
      const statistics = prepared.flatMap((row) => {
        const served = statistic(row.statement)
        return served === undefined ? [] : [{ served, named: /^ssv_[0-9a-f]{32}$/.test(row.name), json: row.statement.includes("row_to_json") }]
      })
      expect(statistics.sort((a, b) => a.served.localeCompare(b.served))).toEqual([
        { served: "call-logs/stats", named: true, json: true },
        { served: "voice-outcomes/stats", named: true, json: true },
        { served: "voice-outcomes/timeseries", named: true, json: true },
        { served: "voice-session-evals/stats", named: true, json: true }
      ])
    }))
})
