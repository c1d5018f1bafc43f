import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { eventually } from "./support/Eventually.js"
import { call, type Replica, startReplicas } from "./support/Replicas.js"
import { query, testDatabaseUrl } from "./support/TestDatabase.js"
import { adminHeaders, bearer } from "./support/TestServer.js"

const TOKEN = "replica-promotion-token-0123456789"
const POLICY = { enabled: true, lookback_hours: 24, min_eval_count: 3, min_avg_score: 0.5, min_high_quality_rate: null }

const admin = (replica: Replica, method: string, path: string, json?: unknown) =>
  call(replica, method, `/api/v1/admin${path}`, { headers: adminHeaders, ...(json === undefined ? {} : { json }) })

const logLines = (replicas: ReadonlyArray<Replica>, text: string) =>
  replicas.flatMap((r) => r.output().split("\n")).filter((line) => line.includes(text)).length

const evaluatingSweeps = (replicas: ReadonlyArray<Replica>) =>
  Effect.sync(() => logLines(replicas, '"message":"rollout governance sweep"'))

/** Waits until the schedules have evaluated the agent `more` times since `since`. */
const moreSweeps = (replicas: ReadonlyArray<Replica>, since: number, more: number) =>
  eventually(evaluatingSweeps(replicas), (n) => n >= since + more, 20_000).pipe(
    Effect.tap((n) => expect(n).toBeGreaterThanOrEqual(since + more))
  )

describe("rollout promotion across replicas", () => {
  it.live("two replicas sweeping one database promote a ready canary exactly once", () =>
    Effect.gen(function*() {
      const databaseUrl = yield* testDatabaseUrl
      const env = { ROLLOUT_GOVERNANCE_SWEEP_INTERVAL_SECS: "1" }
      const [a, b] = yield* startReplicas(databaseUrl, env)
      const replicas = [a, b]

      expect((yield* admin(a, "PUT", "/tenants/rp", { tenant_id: "rp", auth_token: TOKEN })).status).toBe(200)
      const agent = (yield* admin(a, "POST", "/tenants/rp/agents", { agent_key: "support", name: "Support" })).body.agent
      const newVersion = (replica: Replica) =>
        Effect.map(admin(replica, "POST", "/tenants/rp/agent-versions", { agent_id: agent.id }), (res) => res.body.version)
      const v1 = yield* newVersion(a)
      const v2 = yield* newVersion(b)
      expect((yield* admin(b, "POST", `/tenants/rp/agent-versions/${v1.id}/publish`)).status).toBe(200)

      /** Calls served by `version` (as the calls domain records them: session + outcome), evaluated over HTTP. */
      const served = (version: { id: string; version_number: number }, scores: ReadonlyArray<number>) =>
        Effect.forEach(scores, (score, i) =>
          Effect.gen(function*() {
            const stream = `MZ-rp-${version.version_number}-${i}`
            const session = randomUUID()
            yield* query(databaseUrl, `insert into voice_sessions (id, tenant_id, stream_id, status, agent_version_id, started_at, ended_at)
              values ($1, 'rp', $2, 'completed', $3, now() - interval '1 minute', now())`, [session, stream, version.id])
            yield* query(databaseUrl, `insert into voice_outcomes (id, tenant_id, voice_session_id, stream_sid, agent_version_id,
                resolution, billing_status, outcome_source, escalated, occurred_at)
              values ($1, 'rp', $2, $3, $4, 'resolved', 'not_billable', 'system', false, now())`, [randomUUID(), session, stream, version.id])
            const evaluated = yield* call(i % 2 === 0 ? a : b, "POST", "/api/v1/automations/voice/evaluation", {
              headers: bearer(TOKEN),
              json: { session_id: stream, score }
            })
            expect(evaluated.status).toBe(200)
          }), { discard: true })
      const backdate = (versionId: string) =>
        query(databaseUrl, "update agent_version_rollouts set serving_since = now() - interval '25 hours' where agent_version_id = $1", [versionId])
      const split = admin(a, "GET", `/tenants/rp/agents/${agent.id}/rollouts`).pipe(
        Effect.map((res) =>
          res.body.rollouts.map((r: { agent_version_id: string; traffic_percentage: number }) => [r.agent_version_id, r.traffic_percentage])
        )
      )
      const promotions = query<{ from_version_id: string; to_version_id: string; moved_percentage: number }>(databaseUrl,
        "select from_version_id::text, to_version_id::text, moved_percentage from rollout_governance_actions where agent_id = $1 and kind = 'promotion' order by created_at",
        [agent.id])

      yield* served(v1, [0.8, 0.85, 0.8])
      yield* served(v2, [0.9, 0.85, 0.8])
      expect((yield* admin(a, "PUT", `/tenants/rp/agents/${agent.id}/rollouts`, {
        entries: [{ agent_version_id: v1.id, traffic_percentage: 80 }, { agent_version_id: v2.id, traffic_percentage: 20 }]
      })).status).toBe(200)
      yield* backdate(v2.id)

      // From here both replicas' scheduled sweeps (every second) race for the agent.
      expect((yield* admin(b, "PUT", `/tenants/rp/agents/${agent.id}/rollout-policy`, POLICY)).status).toBe(200)
      expect(yield* eventually(split, (s) => s.length === 1, 20_000)).toEqual([[v2.id, 100]])
      yield* moreSweeps(replicas, yield* evaluatingSweeps(replicas), 3) // more chances to promote twice
      expect(yield* promotions).toEqual([{ from_version_id: v1.id, to_version_id: v2.id, moved_percentage: 80 }])
      expect(logLines(replicas, "rollout governance promotion applied")).toBe(1)

      // Next canary, v3 against v2; admin evaluations with apply hit both replicas at once (and the schedules run too).
      const v3 = yield* newVersion(a)
      yield* served(v3, [0.9, 0.9, 0.9])
      expect((yield* admin(b, "PUT", `/tenants/rp/agents/${agent.id}/rollouts`, {
        entries: [{ agent_version_id: v2.id, traffic_percentage: 50 }, { agent_version_id: v3.id, traffic_percentage: 50 }]
      })).status).toBe(200)
      yield* backdate(v3.id)
      const evaluations = yield* Effect.all(
        Array.from({ length: 8 }, (_, i) =>
          admin(i % 2 === 0 ? a : b, "POST", `/tenants/rp/agents/${agent.id}/rollout-governance/evaluate`, { apply: true })),
        { concurrency: "unbounded" }
      )
      for (const evaluation of evaluations) expect(evaluation.status).toBe(200)
      const byAdmin = evaluations.filter((e) => e.body.evaluation.applied).length
      expect(byAdmin).toBeLessThanOrEqual(1)
      expect(yield* eventually(split, (s) => s.length === 1 && s[0][0] === v3.id, 10_000)).toEqual([[v3.id, 100]])
      yield* moreSweeps(replicas, yield* evaluatingSweeps(replicas), 2)
      expect((yield* promotions).map((p) => [p.from_version_id, p.to_version_id, p.moved_percentage])).toEqual([
        [v1.id, v2.id, 80],
        [v2.id, v3.id, 50]
      ])
      expect(logLines(replicas, "rollout governance promotion applied")).toBe(2)
      const versions = (yield* admin(a, "GET", `/tenants/rp/agent-versions?agent_id=${agent.id}`)).body.versions
      expect(versions.map((v: { status: string }) => v.status)).toEqual(["published", "published", "published"])
      console.log(`admin evaluations applied ${byAdmin} of the second promotion; the schedule applied ${1 - byAdmin}`)
    }).pipe(Effect.scoped), 120_000)
})
