import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { eventually } from "./support/Eventually.js"
import { fakeOpenAIResponses } from "./support/FakeOpenAIResponses.js"
import { call, startReplicas } from "./support/Replicas.js"
import { testDatabaseUrl, withClient } from "./support/TestDatabase.js"
import { adminHeaders } from "./support/TestServer.js"

const JOBS = 12

/** `count` finished sessions and their analysis jobs, committed at once (as call records would), then NOTIFY. */
const commitJobs = (url: string, tenant: string, count: number) =>
  withClient(url, async (client) => {
    await client.query("begin")
    for (let i = 0; i < count; i++) {
      const sessionId = randomUUID()
      const transcript = [{ role: "user", content: `call number ${i}`, timestamp: new Date().toISOString() }]
      await client.query(
        `insert into voice_sessions (id, tenant_id, stream_id, status, transcript, started_at, ended_at)
         values ($1, $2, $3, 'completed', $4::jsonb, now() - interval '1 minute', now())`,
        [sessionId, tenant, `MZtwin${i}`, JSON.stringify(transcript)]
      )
      await client.query(
        "insert into call_analysis_jobs (id, tenant_id, voice_session_id, next_attempt_at) values ($1, $2, $3, now())",
        [randomUUID(), tenant, sessionId]
      )
    }
    await client.query("select pg_notify('call_analysis', 'job')")
    await client.query("commit")
  })

describe("post-call analysis across replicas", () => {
  it.scopedLive("two replicas on one database analyse every call exactly once", () =>
    Effect.gen(function*() {
      const url = yield* testDatabaseUrl
      const openai = yield* fakeOpenAIResponses
      const env = { OPENAI_API_KEY: "sk-test-replicas", OPENAI_BASE_URL: openai.baseUrl, ANALYSIS_POLL_INTERVAL_MS: "100", ANALYSIS_BATCH_SIZE: "2" }
      const [a, b] = yield* startReplicas(url, env)
      const res = yield* call(a, "PUT", "/api/v1/admin/tenants/twin-analysis", { headers: adminHeaders, json: { tenant_id: "twin-analysis" } })
      expect(res.status).toBe(200)
      yield* commitJobs(url, "twin-analysis", JOBS)

      const done = yield* eventually(
        withClient(url, async (client) =>
          (await client.query<{ status: string; attempts: number }>("select status, attempts from call_analysis_jobs where tenant_id = 'twin-analysis'")).rows),
        (rows) => rows.length === JOBS && rows.every((r) => r.status === "done"),
        15_000
      )
      expect(done.every((r) => r.status === "done" && r.attempts === 1)).toBe(true)
      // One request per call, each call's own transcript once.
      const inputs = openai.requests.map((r) => String(r.body.input))
      expect(inputs).toHaveLength(JOBS)
      expect(new Set(inputs).size).toBe(JOBS)
      const evals = yield* withClient(url, async (client) =>
        (await client.query<{ n: number; sessions: number }>(
          "select count(*)::int as n, count(distinct voice_session_id)::int as sessions from voice_session_evals where tenant_id = 'twin-analysis' and source = 'auto'"
        )).rows[0]!)
      expect(evals).toEqual({ n: JOBS, sessions: JOBS })
      void b
    }), { timeout: 60_000 })
})
