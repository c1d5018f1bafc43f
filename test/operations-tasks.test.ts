import { expect } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SupervisorActions } from "../src/SupervisorActions/SupervisorActions.js"
import { putTenant } from "./support/FakeTwilioServer.js"
import { createTask, expectSpecTask, putQueue, taskEvents } from "./support/OperationsFixtures.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, request, serverSuite } from "./support/TestServer.js"

const hook = (tenant: string) => ({ webhook_url: `http://127.0.0.1:9/${tenant}` })
const Tenants = Layer.effectDiscard(Effect.all([putTenant("ops-a", hook("a")), putTenant("ops-b", hook("b"))]))
const A = { authorization: "Bearer ops-a-bearer-token-0123456789" }
const B = { authorization: "Bearer ops-b-bearer-token-0123456789" }

serverSuite({ ALLOW_PRIVATE_OUTBOUND_URLS: "true" }, { seed: Tenants })("operator queues and callback tasks", (it) => {
  it.effect("a task without a queue lands in the tenant's default queue, created on first use, with its SLA", () =>
    Effect.gen(function*() {
      const before = Date.now()
      const task = yield* createTask(A, { disposition: "human_follow_up_required", customer_phone: "+15555550123" })
      expectSpecTask(task)
      expect(task).toMatchObject({ tenant_id: "ops-a", queue_key: "default", status: "open", priority: 0, created_by: "api" })
      const sla = Date.parse(task.sla_due_at) - Date.parse(task.created_at)
      expect(sla).toBe(3600_000)
      expect(Date.parse(task.created_at)).toBeGreaterThanOrEqual(before - 1000)
      const queues = yield* request("GET", "/api/v1/operator-queues", { headers: A })
      expect(queues.status).toBe(200)
      expect(queues.body.filter((q: { is_default: boolean }) => q.is_default).map((q: { queue_key: string }) => q.queue_key)).toEqual(["default"])
      queues.body.forEach((q: unknown) => expectSpecSchema(q, "OperatorQueue"))
      // Tenant B sees none of A's queues or tasks.
      expect((yield* request("GET", "/api/v1/operator-queues", { headers: B })).body).toEqual([])
      expect((yield* request("GET", `/api/v1/callback-tasks/${task.id}`, { headers: B })).status).toBe(404)
      expect((yield* request("POST", `/api/v1/callback-tasks/${task.id}/claim`, { headers: B, json: { operator: "eve" } })).status).toBe(404)
      const events = yield* taskEvents("ops-a")
      expect(events.filter((e) => e.payload.data.id === task.id).map((e) => e.event)).toEqual(["voice.callback_task.created"])
      expect((yield* taskEvents("ops-b")).length).toBe(0)
    }))

  it.effect("a queue's defaults apply to its tasks; a queue that does not exist is a 400 naming it", () =>
    Effect.gen(function*() {
      const queue = yield* putQueue(A, "escalations", {
        name: "Escalations", priority: 7, sla_seconds: 900, default_assignee: "tier2@acme.test", dispatch_timezone: "America/New_York"
      })
      expectSpecSchema(queue, "OperatorQueue")
      expect(queue).toMatchObject({ queue_key: "escalations", is_default: false, auto_dispatch_max_attempts: 3, active: true })
      // A partial PUT keeps what it leaves out.
      const again = yield* putQueue(A, "escalations", { name: "Escalations 2" })
      expect(again).toMatchObject({ id: queue.id, name: "Escalations 2", priority: 7, sla_seconds: 900 })
      const task = yield* createTask(A, { disposition: "callback_requested", queue_key: "escalations" })
      expect(task).toMatchObject({ queue_key: "escalations", priority: 7, assigned_to: "tier2@acme.test" })
      expect(Date.parse(task.sla_due_at) - Date.parse(task.created_at)).toBe(900_000)
      const missing = yield* request("POST", "/api/v1/callback-tasks", { headers: A, json: { disposition: "resolved", queue_key: "nope" } })
      expect(missing.status).toBe(400)
      expect(missing.body.error).toContain("'nope'")
      const badZone = yield* request("PUT", "/api/v1/operator-queues/x", { headers: A, json: { name: "X", dispatch_timezone: "Mars/Base" } })
      expect(badZone.status).toBe(400)
      expect(badZone.body.error).toContain("dispatch_timezone")
      const badDisposition = yield* request("POST", "/api/v1/callback-tasks", { headers: A, json: { disposition: "whatever" } })
      expect(badDisposition.status).toBe(400)
      expect(badDisposition.body.error).toContain("disposition")
    }))

  it.effect("transitions that make no sense are 400s that say why", () =>
    Effect.gen(function*() {
      const task = yield* createTask(A, { disposition: "voicemail_follow_up" })
      const post = (path: string, json: unknown) => request("POST", `/api/v1/callback-tasks/${task.id}/${path}`, { headers: A, json })
      const unsnooze = yield* post("unsnooze", { operator: "ann" })
      expect(unsnooze.status).toBe(400)
      expect(unsnooze.body.error).toContain("not snoozed")
      const release = yield* post("release", {})
      expect(release.status).toBe(400)
      expect(release.body.error).toContain("only a claimed")
      const claimed = yield* post("claim", { operator: "ann" })
      expect(claimed.status).toBe(200)
      expectSpecTask(claimed.body)
      // Claiming is seeing: it acknowledges the task.
      expect(claimed.body).toMatchObject({ status: "in_progress", assigned_to: "ann", acknowledged_by: "ann" })
      expect(claimed.body.claimed_at).not.toBeNull()
      const stolen = yield* post("claim", { operator: "bob" })
      expect(stolen.status).toBe(400)
      expect(stolen.body.error).toContain("already claimed by ann")
      const past = yield* post("snooze", { operator: "ann", snoozed_until: "2001-01-01T00:00:00Z" })
      expect(past.status).toBe(400)
      expect(past.body.error).toContain("in the future")
      const until = new Date(Date.now() + 3600_000).toISOString()
      const snoozed = yield* post("snooze", { operator: "ann", snoozed_until: until, reason: "waiting on carrier" })
      expect(snoozed.body).toMatchObject({ snoozed_until: until, snooze_reason: "waiting on carrier" })
      const woke = yield* post("unsnooze", { operator: "ann", note: "carrier replied" })
      expect(woke.body).toMatchObject({ snoozed_until: null, notes: "carrier replied" })
      // The first acknowledgement is kept.
      const acked = yield* post("acknowledge", { operator: "bob" })
      expect(acked.body).toMatchObject({ acknowledged_by: "ann", acknowledged_at: claimed.body.acknowledged_at })
      const released = yield* post("release", { clear_assignee: true })
      expect(released.body).toMatchObject({ status: "open", assigned_to: null, claimed_at: null })
      const done = yield* request("PATCH", `/api/v1/callback-tasks/${task.id}`, { headers: A, json: { status: "completed", notes: "called back" } })
      expect(done.body).toMatchObject({ status: "completed", notes: "called back" })
      expect(done.body.completed_at).not.toBeNull()
      const late = yield* post("claim", { operator: "bob" })
      expect(late.status).toBe(400)
      expect(late.body.error).toContain("completed")
      const events = (yield* taskEvents("ops-a")).filter((e) => e.payload.data.id === task.id).map((e) => e.event)
      expect(events).toContain("voice.callback_task.completed")
      expect(events.filter((e) => e === "voice.callback_task.updated").length).toBe(4)
      expect((yield* request("GET", "/api/v1/callback-tasks/not-a-uuid", { headers: A })).status).toBe(404)
    }))

  it.effect("of concurrent claims of one task exactly one wins", () =>
    Effect.gen(function*() {
      const task = yield* createTask(A, { disposition: "human_follow_up_required" })
      const operators = Array.from({ length: 8 }, (_, i) => `op-${i}`)
      const results = yield* Effect.forEach(operators, (operator) =>
        request("POST", `/api/v1/callback-tasks/${task.id}/claim`, { headers: A, json: { operator } }), { concurrency: "unbounded" })
      const winners = results.filter((r) => r.status === 200)
      expect(winners.length).toBe(1)
      expect(results.filter((r) => r.status === 400).length).toBe(7)
      const final = yield* request("GET", `/api/v1/callback-tasks/${task.id}`, { headers: A })
      expect(final.body.assigned_to).toBe(winners[0]!.body.assigned_to)
    }))

  it.effect("lists filter by status, disposition, queue and overdue; stats count per queue; admin lists across tenants", () =>
    Effect.gen(function*() {
      yield* putQueue(B, "late", { name: "Late", sla_seconds: 60 })
      const overdue = yield* createTask(B, { disposition: "customer_abandoned", queue_key: "late", sla_due_at: "2020-01-01T00:00:00Z", stream_sid: "MZ-b-1" })
      const fresh = yield* createTask(B, { disposition: "callback_scheduled", queue_key: "late" })
      const list = (q: string) => request("GET", `/api/v1/callback-tasks${q}`, { headers: B }).pipe(Effect.map((r) => r.body.map((t: { id: string }) => t.id)))
      expect(yield* list("?overdue_only=true")).toEqual([overdue.id])
      expect(yield* list("?disposition=callback_scheduled")).toEqual([fresh.id])
      expect(yield* list("?stream_sid=MZ-b-1")).toEqual([overdue.id])
      expect((yield* list("?queue_key=late")).length).toBe(2)
      expect((yield* list("?queue_key=late&limit=1&offset=1")).length).toBe(1)
      expect((yield* request("GET", "/api/v1/callback-tasks?status=bogus", { headers: B })).status).toBe(400)
      yield* request("POST", `/api/v1/callback-tasks/${fresh.id}/claim`, { headers: B, json: { operator: "zed" } })
      const stats = yield* request("GET", "/api/v1/operator-queues/stats", { headers: B })
      stats.body.forEach((s: unknown) => expectSpecSchema(s, "OperatorQueueStats"))
      const late = stats.body.find((s: { queue_key: string }) => s.queue_key === "late")
      expect(late).toMatchObject({ open_tasks: 1, in_progress_tasks: 1, overdue_tasks: 1, unassigned_tasks: 1, total_tasks: 2, sla_seconds: 60 })
      expect(late.oldest_task_age_secs).toBeGreaterThanOrEqual(0)
      const admin = yield* request("GET", "/api/v1/admin/callback-tasks?tenant_id=ops-b", { headers: adminHeaders })
      expect(admin.status).toBe(200)
      expect(admin.body.count).toBe(2)
      expect(admin.body.tasks.every((t: { tenant_id: string }) => t.tenant_id === "ops-b")).toBe(true)
      const all = yield* request("GET", "/api/v1/admin/callback-tasks?limit=200", { headers: adminHeaders })
      expect(new Set(all.body.tasks.map((t: { tenant_id: string }) => t.tenant_id))).toEqual(new Set(["ops-a", "ops-b"]))
      expect((yield* request("GET", "/api/v1/admin/callback-tasks", {})).status).toBe(401)
    }))

  it.effect("supervisor action lists filter by stream and action and never cross tenants", () =>
    Effect.gen(function*() {
      const log = yield* SupervisorActions
      const action = (tenantId: string, streamSid: string, kind: "monitor" | "barge") =>
        log.record({ tenantId, streamSid, callSid: null, action: kind, supervisor: "sup", target: null, reason: null, note: null, metadata: { k: 1 } })
      yield* action("ops-a", "MZ-sa-1", "monitor")
      yield* action("ops-a", "MZ-sa-1", "barge")
      yield* action("ops-a", "MZ-sa-2", "barge")
      yield* action("ops-b", "MZ-sa-1", "barge")
      const list = (q: string) => request("GET", `/api/v1/supervisor-actions${q}`, { headers: A }).pipe(Effect.map((r) => r.body))
      const all = yield* list("")
      expect(all.length).toBe(3)
      all.forEach((a: unknown) => expectSpecSchema(a, "SupervisorActionLog"))
      expect((yield* list("?action=barge")).length).toBe(2)
      expect((yield* list("?stream_sid=MZ-sa-1&action=barge")).map((a: { tenant_id: string }) => a.tenant_id)).toEqual(["ops-a"])
      const admin = yield* request("GET", "/api/v1/admin/supervisor-actions?stream_sid=MZ-sa-1&action=barge", { headers: adminHeaders })
      expectSpecSchema(admin.body, "AdminSupervisorActionsResponse")
      expect(admin.body.count).toBe(2)
      const onlyB = yield* request("GET", "/api/v1/admin/supervisor-actions?tenant_id=ops-b", { headers: adminHeaders })
      expect(onlyB.body.actions.map((a: { tenant_id: string }) => a.tenant_id)).toEqual(["ops-b"])
      expect((yield* request("GET", "/api/v1/supervisor-actions?action=dance", { headers: A })).status).toBe(400)
    }))

  it.effect("a limit's refusal is listed as the spec's `end` by supervisor `limits`", () =>
    Effect.gen(function*() {
      const log = yield* SupervisorActions
      yield* log.record({
        tenantId: "ops-a", streamSid: "MZ-sa-refused", callSid: "CA-refused", action: "refuse", supervisor: "limits",
        target: "+15550001111", reason: "tenant_concurrency", note: "too many calls", metadata: { kind: "inbound_call", status: 429 }
      })
      const list = (q: string) => request("GET", `/api/v1/supervisor-actions${q}`, { headers: A }).pipe(Effect.map((r) => r.body))
      const refused = yield* list("?stream_sid=MZ-sa-refused")
      expect(refused).toHaveLength(1)
      expect(refused[0]).toMatchObject({ action: "end", supervisor: "limits", reason: "tenant_concurrency" })
      expectSpecSchema(refused[0], "SupervisorActionLog")
      expect((yield* list("?stream_sid=MZ-sa-refused&action=end")).length).toBe(1)
      expect((yield* list("?stream_sid=MZ-sa-refused&action=barge")).length).toBe(0)
      expect((yield* request("GET", "/api/v1/supervisor-actions?action=refuse", { headers: A })).status).toBe(400)
      const admin = yield* request("GET", "/api/v1/admin/supervisor-actions?stream_sid=MZ-sa-refused&action=end", { headers: adminHeaders })
      expectSpecSchema(admin.body, "AdminSupervisorActionsResponse")
      expect(admin.body.actions.map((a: { action: string }) => a.action)).toEqual(["end"])
    }))
})
