import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { eventually } from "./support/Eventually.js"
import { POLICY } from "./support/GovernanceFixtures.js"
import { call, type Replica, startReplicas } from "./support/Replicas.js"
import { query, testDatabaseUrl } from "./support/TestDatabase.js"
import { adminHeaders, bearer } from "./support/TestServer.js"

const TOKEN = "replica-governance-token-0123456789"

const admin = (replica: Replica, method: string, path: string, json?: unknown) =>
  call(replica, method, `/api/v1/admin${path}`, { headers: adminHeaders, ...(json === undefined ? {} : { json }) })

const appliedLogLines = (replicas: ReadonlyArray<Replica>) =>
  replicas.flatMap((r) => r.output().split("\n")).filter((line) => line.includes("rollout governance rollback applied")).length

/** Scheduled sweeps, on either replica, that evaluated an agent (each logs one line). */
const evaluatingSweeps = (replicas: ReadonlyArray<Replica>) =>
  Effect.sync(() =>
    replicas.flatMap((r) => r.output().split("\n")).filter((line) => line.includes('"message":"rollout governance sweep"')).length
  )

/** Waits until the schedules have evaluated the agent `more` times since `since`. */
const moreSweeps = (replicas: ReadonlyArray<Replica>, since: number, more: number) =>
  eventually(evaluatingSweeps(replicas), (n) => n >= since + more, 20_000).pipe(
    Effect.tap((n) => expect(n).toBeGreaterThanOrEqual(since + more))
  )

describe("rollout governance across replicas", () => {
  it.live("two replicas sweeping one database roll a failing version back exactly once", () =>
    Effect.gen(function*() {
      const databaseUrl = yield* testDatabaseUrl
      const env = { ROLLOUT_GOVERNANCE_SWEEP_INTERVAL_SECS: "1" }
      const [a, b] = yield* startReplicas(databaseUrl, env)

      expect((yield* admin(a, "PUT", "/tenants/rg", { tenant_id: "rg", auth_token: TOKEN })).status).toBe(200)
      const agent = (yield* admin(a, "POST", "/tenants/rg/agents", { agent_key: "support", name: "Support" })).body.agent
      const v1 = (yield* admin(a, "POST", "/tenants/rg/agent-versions", { agent_id: agent.id })).body.version
      const v2 = (yield* admin(b, "POST", "/tenants/rg/agent-versions", { agent_id: agent.id })).body.version
      expect((yield* admin(b, "POST", `/tenants/rg/agent-versions/${v1.id}/publish`)).status).toBe(200)
      const split = [{ agent_version_id: v1.id, traffic_percentage: 80 }, { agent_version_id: v2.id, traffic_percentage: 20 }]
      expect((yield* admin(a, "PUT", `/tenants/rg/agents/${agent.id}/rollouts`, { entries: split })).status).toBe(200)

      // Calls served by each version (as the calls domain records them), evaluated over HTTP.
      for (const [version, scores] of [[v1, [0.9, 0.95, 0.85]], [v2, [0.2, 0.3, 0.25]]] as const) {
        for (const [i, score] of scores.entries()) {
          const stream = `MZ-${version.version_number}-${i}`
          yield* query(databaseUrl, `insert into voice_sessions (id, tenant_id, stream_id, status, agent_version_id, started_at, ended_at)
            values ($1, 'rg', $2, 'completed', $3, now() - interval '1 minute', now())`, [randomUUID(), stream, version.id])
          const evaluated = yield* call(i % 2 === 0 ? a : b, "POST", "/api/v1/automations/voice/evaluation", {
            headers: bearer(TOKEN),
            json: { session_id: stream, score }
          })
          expect(evaluated.status).toBe(200)
        }
      }

      // From here both replicas' scheduled sweeps (every second) race for the agent.
      expect((yield* admin(b, "PUT", `/tenants/rg/agents/${agent.id}/rollout-policy`, POLICY)).status).toBe(200)
      const traffic = admin(a, "GET", `/tenants/rg/agents/${agent.id}/rollouts`).pipe(
        Effect.map((res) => res.body.rollouts.map((r: { traffic_percentage: number }) => r.traffic_percentage) as Array<number>)
      )
      expect(yield* eventually(traffic, (t) => t[0] === 100, 20_000)).toEqual([100, 0])
      yield* moreSweeps([a, b], yield* evaluatingSweeps([a, b]), 3) // several more chances to roll back twice
      const actions = () =>
        query<{ actor: string; moved_percentage: number }>(databaseUrl, "select actor, moved_percentage from rollout_governance_actions where agent_id = $1", [agent.id])
      expect(yield* actions()).toEqual([{ actor: "scheduled_sweep", moved_percentage: 20 }])
      expect(appliedLogLines([a, b])).toBe(1)

      // Admin sweeps fired at both replicas at once (no due-time filter): still one rollback.
      expect((yield* admin(a, "PUT", `/tenants/rg/agents/${agent.id}/rollouts`, { entries: split })).status).toBe(200)
      const sweeps = yield* Effect.all(
        Array.from({ length: 8 }, (_, i) => admin(i % 2 === 0 ? a : b, "POST", "/rollout-governance/sweep", { apply: true })),
        { concurrency: "unbounded" }
      )
      for (const sweep of sweeps) expect(sweep.status).toBe(200)
      const byAdmin = sweeps.reduce((sum, sweep) => sum + sweep.body.result.rollbacks_applied, 0)
      expect(byAdmin).toBeLessThanOrEqual(1)
      expect(yield* eventually(traffic, (t) => t[0] === 100, 10_000)).toEqual([100, 0])
      yield* moreSweeps([a, b], yield* evaluatingSweeps([a, b]), 2)
      expect((yield* actions()).length).toBe(2)
      expect(appliedLogLines([a, b])).toBe(2)
      console.log(`admin sweeps applied ${byAdmin} of the second rollback; the schedule applied ${1 - byAdmin}`)
    }).pipe(Effect.scoped), 120_000)
})
