import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { createTenant } from "./support/AgentFixtures.js"
import { createTask, putQueue } from "./support/OperationsFixtures.js"
import { seededRandom } from "./support/SeededRandom.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { bearer, makeTestServer, request } from "./support/TestServer.js"

/**
 * GET /operator-queues/stats reads active tasks through a partial index and totals through an
 * index-only count (migration 0012). Its answer must equal the full scan it replaced, on random
 * tasks of every status, after transitions (status, queue, assignee and SLA changes through the
 * API and in bulk), deletions, and another tenant's tasks in queues of the same name.
 */
const SEED = Number(process.env.QUEUE_STATS_SEED ?? Date.now() % 1_000_000)
const { pick, random } = seededRandom(SEED)
const STATUSES = ["open", "in_progress", "completed", "canceled"] as const
const QUEUES = ["default", "billing", "vip", "gone"] // "gone" has tasks but no queue row
const MINUTE = 60_000
/** An SLA at least two minutes from now, so the test's and the service's "now" agree on overdue. */
const sla = () => random() < 0.1 ? null : new Date(Date.now() + (random() < 0.5 ? -1 : 1) * (2 * MINUTE + random() * 3 * 24 * 60 * MINUTE))

/** The query the endpoint used before 0012: a join over every task of the tenant. */
const fullScan = (tenantId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql<Record<string, unknown>>`select q.queue_key, q.name, q.priority, q.sla_seconds,
      count(t.id) filter (where t.status = 'open')::int as open_tasks,
      count(t.id) filter (where t.status = 'in_progress')::int as in_progress_tasks,
      count(t.id) filter (where t.status in ('open', 'in_progress') and t.sla_due_at < now())::int as overdue_tasks,
      count(t.id) filter (where t.status in ('open', 'in_progress') and t.assigned_to is null)::int as unassigned_tasks,
      count(t.id)::int as total_tasks,
      extract(epoch from (now() - min(t.created_at) filter (where t.status in ('open', 'in_progress'))))::float8
        as oldest_task_age_secs
    from operator_queues q
    left join callback_tasks t on t.tenant_id = q.tenant_id and t.queue_key = q.queue_key
    where q.tenant_id = ${tenantId}
    group by q.queue_key, q.name, q.priority, q.sla_seconds
    order by q.priority desc, q.queue_key`)

const insertTasks = (tenantId: string, count: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    for (let i = 0; i < count; i++) {
      const created = new Date(Date.now() - random() * 90 * 24 * 60 * MINUTE)
      yield* sql`insert into callback_tasks (id, tenant_id, queue_key, status, disposition, assigned_to, due_at,
          sla_due_at, created_at, updated_at)
        values (${randomUUID()}, ${tenantId}, ${pick(QUEUES)}, ${pick(STATUSES)}, 'callback_requested',
          ${random() < 0.5 ? null : pick(["ann", "bob"])}, ${created}, ${sla()}, ${created}, ${created})`
    }
  })

const compare = (token: string, tenantId: string) =>
  Effect.gen(function*() {
    const res = yield* request("GET", "/api/v1/operator-queues/stats", { headers: bearer(token) })
    expect(res.status).toBe(200)
    res.body.forEach((s: unknown) => expectSpecSchema(s, "OperatorQueueStats"))
    const expected = yield* fullScan(tenantId)
    expect(res.body.length).toBe(expected.length)
    expected.forEach((row, i) => {
      const { oldest_task_age_secs: age, ...rest } = res.body[i]
      const { oldest_task_age_secs: expectedAge, ...expectedRest } = row
      expect(rest, `seed ${SEED}`).toEqual(expectedRest)
      if (expectedAge === null) expect(age ?? null).toBeNull()
      else expect(Math.abs(age - (expectedAge as number))).toBeLessThan(30)
    })
    return res.body as Array<{ queue_key: string; total_tasks: number }>
  })

layer(makeTestServer(), { timeout: 120_000 })("operator queue stats", (it) => {
  it.effect("equal a full scan on random tasks, after transitions and deletions", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const token = yield* createTenant("oqs")
      const other = yield* createTenant("oqs-other")
      yield* putQueue(bearer(token), "billing", { name: "Billing", priority: 5 })
      yield* putQueue(bearer(token), "vip", { name: "VIP", priority: 9, sla_seconds: 600 })
      yield* putQueue(bearer(other), "billing", { name: "Billing" })
      const viaApi = yield* Effect.forEach(Array.from({ length: 30 }), () =>
        createTask(bearer(token), { disposition: "callback_requested", queue_key: pick(["billing", "vip"]) }))
      yield* createTask(bearer(token), { disposition: "resolved" })
      yield* insertTasks("oqs", 600)
      yield* insertTasks("oqs-other", 200)
      const first = yield* compare(token, "oqs")
      expect(first.find((q) => q.queue_key === "default")).toBeDefined() // made by the first task without a queue
      expect(first.reduce((n, q) => n + q.total_tasks, 0)).toBeGreaterThan(400)

      // Transitions through the API: status, queue, assignee and SLA changes.
      for (const task of viaApi) {
        const patch = pick([
          { status: pick(STATUSES) }, { queue_key: pick(["default", "billing", "vip"]) },
          { assigned_to: random() < 0.5 ? null : "carol" }, { sla_due_at: (sla() ?? new Date()).toISOString() }
        ])
        const res = yield* request("PATCH", `/api/v1/callback-tasks/${task.id}`, { headers: bearer(token), json: patch })
        expect(res.status, JSON.stringify(patch)).toBe(200)
      }
      // Bulk transitions and deletions, as sweeps and operators make them.
      yield* sql`update callback_tasks set status = 'completed' where tenant_id = 'oqs' and status = 'open' and random() < 0.3`
      yield* sql`update callback_tasks set status = 'in_progress', assigned_to = 'dan' where tenant_id = 'oqs' and status = 'open' and random() < 0.3`
      yield* sql`update callback_tasks set queue_key = 'vip' where tenant_id = 'oqs' and queue_key = 'gone' and random() < 0.5`
      yield* sql`update callback_tasks set assigned_to = null where tenant_id = 'oqs' and random() < 0.1`
      yield* sql`delete from callback_tasks where tenant_id = 'oqs' and random() < 0.1`
      yield* insertTasks("oqs", 100)
      const after = yield* compare(token, "oqs")
      expect(after).not.toEqual(first)
      yield* compare(other, "oqs-other")
    }))
})
