import { layer } from "@effect/vitest"
import { expect } from "@effect/vitest"
import { Context, Duration, Effect, Layer, TestClock } from "effect"
import { startFakeTwilio } from "./support/FakeTwilio.js"
import { FakeTwilioServer, putTenant } from "./support/FakeTwilioServer.js"
import { type FakeTickets, startFakeTickets } from "./support/FakeTicketServer.js"
import { createTask, putQueue, taskEvents } from "./support/OperationsFixtures.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, makeTestServer, request } from "./support/TestServer.js"

class Tickets extends Context.Tag("Tickets")<Tickets, FakeTickets>() {}

const SID = `AC${"5".repeat(32)}`
const TOKEN = "sweeps-twilio-auth-token"
const T = { authorization: "Bearer sweeps-bearer-token-0123456789" }
const OTHER = { authorization: "Bearer sweeps-other-bearer-token-0123456789" }

/** A server on the tests' TestClock, its sweeps off (the tests run them), with fake Twilio and a fake ticket system. */
const Server = Layer.unwrapScoped(Effect.map(Effect.all([startFakeTwilio, startFakeTickets]), ([twilio, tickets]) => {
  twilio.accounts.set(SID, TOKEN)
  const off = "0"
  return Layer.mergeAll(
    makeTestServer({
      TWILIO_API_BASE_URL: twilio.baseUrl,
      ALLOW_PRIVATE_OUTBOUND_URLS: "true",
      OPERATOR_SLA_SWEEP_INTERVAL_SECS: off,
      OPERATOR_FOLLOW_UP_SWEEP_INTERVAL_SECS: off,
      OPERATOR_DISPATCH_SWEEP_INTERVAL_SECS: off,
      OPERATOR_RECONCILIATION_SWEEP_INTERVAL_SECS: off,
      // The outbox and analysis workers are not under test here (events are read from the
      // outbox table): at their 1-2 s polls every simulated minute would be ~90 real passes.
      OUTBOX_POLL_INTERVAL_MS: "600000",
      ANALYSIS_POLL_INTERVAL_MS: "600000"
    }, { clock: "test" }),
    Layer.succeed(FakeTwilioServer, twilio),
    Layer.succeed(Tickets, tickets)
  )
}))

const Seed = Layer.effectDiscard(Effect.gen(function*() {
  const tickets = yield* Tickets
  yield* putTenant("sweeps", {
    webhook_url: "http://127.0.0.1:9/hooks",
    twilio: { account_sid: SID, auth_token: TOKEN, from_number: "+15550001111" },
    operations: { ticketing: { url: `${tickets.baseUrl}/tickets/{external_reference_id}`, source: "gorgias", api_token: "ticket-api-token" } }
  })
  yield* putTenant("sweeps-other", { webhook_url: "http://127.0.0.1:9/other" })
  yield* putTenant("sweeps-limits", { webhook_url: "http://127.0.0.1:9/limits" })
}))

const sweep = (path: string, query = "") =>
  request("POST", `/api/v1/admin/operator-queues/${path}${query}`, { headers: adminHeaders }).pipe(
    Effect.tap((res) => res.status === 200 ? Effect.void : Effect.dieMessage(`${path}: ${res.status} ${res.text}`)),
    Effect.map((res) => res.body)
  )
const forTask = (id: string) => (items: ReadonlyArray<Record<string, any>>) => items.filter((item) => item.task_id === id)
const minutes = (n: number) => TestClock.adjust(Duration.minutes(n))

layer(Layer.provideMerge(Seed, Server))("operator sweeps on the TestClock", (it) => {
  it.effect("SLA: a task past its SLA is alerted once per due time, with one webhook event", () =>
    Effect.gen(function*() {
      yield* putQueue(T, "sla", { name: "SLA", sla_seconds: 60 })
      const task = yield* createTask(T, { disposition: "human_follow_up_required", queue_key: "sla" })
      const other = yield* createTask(OTHER, { disposition: "human_follow_up_required", sla_due_at: "2000-01-01T00:00:00Z" })
      expect(forTask(task.id)((yield* sweep("sweep")).result.items)).toEqual([])
      yield* minutes(1)
      const due = yield* sweep("sweep")
      expectSpecSchema(due, "AdminOperatorQueueSweepResponse")
      expect(forTask(task.id)(due.result.items)).toEqual([expect.objectContaining({ tenant_id: "sweeps", queue_key: "sla", webhook_enqueued: true })])
      expect(forTask(task.id)((yield* sweep("sweep")).result.items)).toEqual([])
      const shown = (yield* request("GET", `/api/v1/callback-tasks/${task.id}`, { headers: T })).body
      expect(shown.last_sla_alert_due_at).toBe(task.sla_due_at)
      // Moving the SLA arms the alert again.
      yield* request("PATCH", `/api/v1/callback-tasks/${task.id}`, { headers: T, json: { sla_due_at: new Date(Date.parse(task.sla_due_at) + 60_000).toISOString() } })
      yield* minutes(1)
      expect(forTask(task.id)((yield* sweep("sweep", "?auth_token=sweeps-bearer-token-0123456789")).result.items).length).toBe(1)
      const events = (yield* taskEvents("sweeps")).filter((e) => e.payload.data.id === task.id && e.event === "voice.callback_task.sla_breached")
      expect(events.length).toBe(2)
      // The other tenant's overdue task got its own alert, in its own tenant.
      expect((yield* taskEvents("sweeps-other")).filter((e) => e.payload.data.id === other.id).map((e) => e.event))
        .toEqual(["voice.callback_task.created", "voice.callback_task.sla_breached"])
    }))

  it.effect("a sweep honours limit, emit_webhooks and auth_token", () =>
    Effect.gen(function*() {
      const L = { authorization: "Bearer sweeps-limits-bearer-token-0123456789" }
      const first = yield* createTask(L, { disposition: "resolved", sla_due_at: "2001-01-01T00:00:00Z" })
      const second = yield* createTask(L, { disposition: "resolved", sla_due_at: "2001-01-01T00:00:00Z" })
      const only = "?auth_token=sweeps-limits-bearer-token-0123456789"
      const quiet = yield* sweep("sweep", `${only}&limit=1&emit_webhooks=false`)
      expect(quiet.result).toMatchObject({ attempted_tenants: 1, evaluated_tenants: 1, alerts_recorded: 1, webhooks_enqueued: 0, overdue_tasks: 2 })
      const silent = quiet.result.items.map((i: { task_id: string }) => i.task_id)
      expect(silent.length).toBe(1)
      const rest = yield* sweep("sweep", `${only}&limit=5`)
      const loud = rest.result.items.map((i: { task_id: string }) => i.task_id)
      expect([...silent, ...loud].sort()).toEqual([first.id, second.id].sort())
      const alerts = (yield* taskEvents("sweeps-limits")).filter((e) => e.event === "voice.callback_task.sla_breached")
      expect(alerts.map((e) => e.payload.data.id)).toEqual(loud)
      const unknown = yield* sweep("sweep", "?auth_token=nobody-has-this-token-0123456789")
      expect(unknown.result).toMatchObject({ attempted_tenants: 0, alerts_recorded: 0, items: [] })
    }))

  it.effect("follow-up: one reminder past the deadline, escalation after the queue's delay, snooze expiry", () =>
    Effect.gen(function*() {
      yield* putQueue(T, "supervisors", { name: "Supervisors" })
      yield* putQueue(T, "tier1", {
        name: "Tier 1", sla_seconds: 60, follow_up_escalation_seconds: 180, follow_up_escalation_queue_key: "supervisors",
        follow_up_escalation_assignee: "sup@acme.test", follow_up_escalation_priority: 99
      })
      const task = yield* createTask(T, { disposition: "callback_requested", queue_key: "tier1", assigned_to: "ann" })
      const run = Effect.map(sweep("follow-up-notifications/sweep"), (body) => forTask(task.id)(body.result.items))
      expect(yield* run).toEqual([])
      yield* minutes(1)
      const reminded = yield* sweep("follow-up-notifications/sweep")
      expectSpecSchema(reminded, "AdminOperatorFollowUpNotificationResponse")
      expect(forTask(task.id)(reminded.result.items)).toEqual([expect.objectContaining({
        reason: "unacknowledged_deadline_breached", notification_sent: true, notification_target: "ann", escalated: false
      })])
      expect(yield* run).toEqual([])
      yield* minutes(2)
      expect(yield* run).toEqual([expect.objectContaining({ escalated: true, escalation_queue_key: "supervisors", escalation_assignee: "sup@acme.test" })])
      const moved = (yield* request("GET", `/api/v1/callback-tasks/${task.id}`, { headers: T })).body
      expect(moved).toMatchObject({ queue_key: "supervisors", assigned_to: "sup@acme.test", priority: 99 })
      expect((yield* taskEvents("sweeps")).filter((e) => e.payload.data.id === task.id).map((e) => e.event)).toContain("voice.callback_task.escalated")
      // An acknowledged, snoozed task only wakes up.
      const snoozy = yield* createTask(T, { disposition: "callback_requested", queue_key: "supervisors" })
      yield* request("POST", `/api/v1/callback-tasks/${snoozy.id}/acknowledge`, { headers: T, json: { operator: "ann" } })
      const now = Date.parse(snoozy.created_at)
      yield* request("POST", `/api/v1/callback-tasks/${snoozy.id}/snooze`, { headers: T, json: { operator: "ann", snoozed_until: new Date(now + 30_000).toISOString() } })
      yield* TestClock.adjust(Duration.seconds(30))
      const woke = forTask(snoozy.id)((yield* sweep("follow-up-notifications/sweep")).result.items)
      expect(woke).toEqual([expect.objectContaining({ reason: "snooze_expired", snooze_expired: true, escalated: false, notification_sent: false })])
      expect((yield* request("GET", `/api/v1/callback-tasks/${snoozy.id}`, { headers: T })).body.snoozed_until).toBeNull()
    }))

  it.effect("auto-dispatch: after the delay, inside the window, retried after the retry delay, never past the limit", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      yield* putQueue(T, "callbacks", {
        name: "Callbacks", auto_dispatch_enabled: true, auto_dispatch_delay_seconds: 60, auto_dispatch_max_attempts: 2,
        auto_dispatch_retry_delay_seconds: 120
      })
      const task = yield* createTask(T, { disposition: "callback_requested", queue_key: "callbacks", customer_phone: "+15557770001" })
      const dials = () => twilio.requests.filter((r) => r.path.endsWith("/Calls.json") && r.form.To === "+15557770001").length
      const run = (query = "") => Effect.map(sweep("dispatch", query), (body) => forTask(task.id)(body.result.items))
      expect(yield* run()).toEqual([])
      yield* minutes(1)
      const dry = yield* sweep("dispatch", "?dry_run=true")
      expectSpecSchema(dry, "AdminOperatorCallbackDispatchResponse")
      expect(forTask(task.id)(dry.result.items)).toEqual([expect.objectContaining({ dry_run: true, dispatch_attempt_count: 0 })])
      expect(dials()).toBe(0)
      twilio.failingNumbers.add("+15557770001")
      const failed = yield* sweep("dispatch")
      expect(forTask(task.id)(failed.result.failures).length).toBe(1)
      expect(dials()).toBe(1)
      twilio.failingNumbers.delete("+15557770001")
      expect(yield* run()).toEqual([])
      yield* minutes(2)
      const placed = yield* run()
      expect(placed).toEqual([expect.objectContaining({ dry_run: false, dispatch_attempt_count: 2, call_sid: expect.stringMatching(/^CA/) })])
      expect(dials()).toBe(2)
      const shown = (yield* request("GET", `/api/v1/callback-tasks/${task.id}`, { headers: T })).body
      expect(shown).toMatchObject({ dispatch_attempt_count: 2, last_dispatch_status: "initiated", last_dispatch_call_sid: placed[0]!.call_sid })
      yield* minutes(3)
      expect(yield* run()).toEqual([])
      expect(dials()).toBe(2)
    }))

  it.effect("auto-dispatch skips a queue whose window is closed now", () =>
    Effect.gen(function*() {
      const hour = new Date(yield* TestClock.currentTimeMillis).getUTCHours()
      yield* putQueue(T, "nightly", {
        name: "Nightly", auto_dispatch_enabled: true,
        dispatch_window_start_hour_utc: (hour + 2) % 24, dispatch_window_end_hour_utc: (hour + 3) % 24
      })
      const task = yield* createTask(T, { disposition: "callback_requested", queue_key: "nightly", customer_phone: "+15557770002" })
      const run = Effect.map(sweep("dispatch", "?dry_run=true"), (body) => forTask(task.id)(body.result.items))
      expect(yield* run).toEqual([])
      yield* putQueue(T, "nightly", { name: "Nightly", dispatch_window_start_hour_utc: null, dispatch_window_end_hour_utc: null })
      expect((yield* run).length).toBe(1)
    }))

  it.effect("external reconciliation: a closed ticket completes its task and its assignee is copied", () =>
    Effect.gen(function*() {
      const tickets = yield* Tickets
      tickets.tickets.set("T-1", { status: "open", assignee: "agent@crm" })
      const task = yield* createTask(T, { disposition: "human_follow_up_required", metadata: { external_reference_id: "T-1" } })
      const broken = yield* createTask(T, { disposition: "human_follow_up_required", metadata: { external_reference_id: "T-missing" } })
      const first = yield* sweep("external-reconciliation/sweep")
      expectSpecSchema(first, "AdminExternalCallbackTaskReconciliationResponse")
      expect(forTask(task.id)(first.result.items)).toEqual([expect.objectContaining({
        source: "gorgias", previous_status: "open", status: "open", assigned_to: "agent@crm", external_assignee: "agent@crm"
      })])
      expect(forTask(broken.id)(first.result.failures)[0].error).toContain("404")
      expect(tickets.requests.at(-1)!.authorization).toBe("Bearer ticket-api-token")
      tickets.tickets.set("T-1", { status: "closed", assignee: "closer@crm" })
      // Looked at again only after RECHECK_SECONDS.
      expect(forTask(task.id)((yield* sweep("external-reconciliation/sweep")).result.items)).toEqual([])
      yield* minutes(2)
      const second = yield* sweep("external-reconciliation/sweep")
      expect(forTask(task.id)(second.result.items)).toEqual([expect.objectContaining({ status: "completed", assigned_to: "closer@crm", webhook_enqueued: true })])
      const shown = (yield* request("GET", `/api/v1/callback-tasks/${task.id}`, { headers: T })).body
      expect(shown).toMatchObject({ status: "completed", assigned_to: "closer@crm" })
      expect((yield* taskEvents("sweeps")).filter((e) => e.payload.data.id === task.id).map((e) => e.event)).toContain("voice.callback_task.completed")
    }))

  it.effect("external reconciliation: a failure names the ticket endpoint without the credential in its URL", () =>
    Effect.gen(function*() {
      const credential = "ticket-url-credential-0123456789"
      // Nothing listens on port 1: the GET fails in transport, and the client's message names the URL.
      const headers = yield* putTenant("sweeps-leaky", {
        operations: { ticketing: { url: `http://127.0.0.1:1/tickets/{external_reference_id}?token=${credential}` } }
      })
      const task = yield* createTask(headers, { disposition: "human_follow_up_required", metadata: { external_reference_id: "T-9" } })
      const swept = yield* sweep("external-reconciliation/sweep")
      const [failure] = forTask(task.id)(swept.result.failures)
      expect(failure.error).toContain("http://127.0.0.1:1/tickets/T-9?token=[redacted]")
      expect(JSON.stringify(swept)).not.toContain(credential)

      // A parenthesis in the path ends a URL in prose: the URL called is still named without its token.
      const odd = yield* putTenant("sweeps-leaky-odd", {
        operations: { ticketing: { url: `http://127.0.0.1:1/tickets/(v1)/{external_reference_id}?token=${credential}` } }
      })
      const oddTask = yield* createTask(odd, { disposition: "human_follow_up_required", metadata: { external_reference_id: "T-10" } })
      const again = yield* sweep("external-reconciliation/sweep")
      expect(forTask(oddTask.id)(again.result.failures)[0].error).toContain("http://127.0.0.1:1/tickets/(v1)/T-10?token=[redacted]")
      expect(JSON.stringify(again)).not.toContain(credential)
    }))
})
