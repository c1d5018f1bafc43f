import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { eventually, eventuallyHolds } from "./support/Eventually.js"
import { startFakeTwilio } from "./support/FakeTwilio.js"
import { accountSid } from "./support/FakeTwilioServer.js"
import { call, type Replica, startReplicas } from "./support/Replicas.js"
import { query, testDatabaseUrl } from "./support/TestDatabase.js"
import { adminHeaders } from "./support/TestServer.js"

const SID = accountSid("replica-ops")
const TOKEN = "replica-ops-twilio-token"
const BEARER = { authorization: "Bearer ops-replica-bearer-token-0123456789" }
const TASKS = 12

const ok = <R extends { status: number; text: string }>(res: R): R => {
  expect(res.status, res.text).toBeLessThan(300)
  return res
}

describe("operator sweeps across replicas", () => {
  it.scopedLive("two replicas sweeping one database dial each task once and alert each SLA once", () =>
    Effect.gen(function*() {
      const databaseUrl = yield* testDatabaseUrl
      const twilio = yield* startFakeTwilio
      twilio.accounts.set(SID, TOKEN)
      const env = {
        TWILIO_API_BASE_URL: twilio.baseUrl,
        ALLOW_PRIVATE_OUTBOUND_URLS: "true",
        OPERATOR_DISPATCH_SWEEP_INTERVAL_SECS: "1",
        OPERATOR_SLA_SWEEP_INTERVAL_SECS: "1",
        OPERATOR_FOLLOW_UP_SWEEP_INTERVAL_SECS: "0",
        OPERATOR_RECONCILIATION_SWEEP_INTERVAL_SECS: "0"
      }
      const [a, b] = yield* startReplicas(databaseUrl, env)
      const on = (r: Replica, method: string, path: string, json?: unknown, headers: Record<string, string> = BEARER) =>
        call(r, method, path, { headers, ...(json === undefined ? {} : { json }) }).pipe(Effect.map(ok))

      yield* on(a, "PUT", "/api/v1/admin/tenants/ops-replica", {
        tenant_id: "ops-replica", auth_token: "ops-replica-bearer-token-0123456789", webhook_url: "http://127.0.0.1:9/hooks",
        twilio: { account_sid: SID, auth_token: TOKEN, from_number: "+15550007000" }
      }, adminHeaders)
      const queue = { name: "Callbacks", auto_dispatch_enabled: false, auto_dispatch_max_attempts: 3 }
      yield* on(b, "PUT", "/api/v1/operator-queues/callbacks", queue)
      // Every SLA falls due at the same moment, a few seconds from now, so both schedules race for them.
      const due = new Date(Date.now() + 3000).toISOString()
      const phones = Array.from({ length: TASKS }, (_, i) => `+1555888${String(i).padStart(4, "0")}`)
      const ids: Array<string> = []
      for (const [i, phone] of phones.entries()) {
        const created = yield* on(i % 2 === 0 ? a : b, "POST", "/api/v1/callback-tasks", {
          disposition: "callback_requested", queue_key: "callbacks", customer_phone: phone, sla_due_at: due
        })
        ids.push(created.body.id)
      }
      // Dispatch becomes possible for all of them at once.
      yield* on(a, "PUT", "/api/v1/operator-queues/callbacks", { ...queue, auto_dispatch_enabled: true })

      const settled = yield* eventually(
        query<{ n: number }>(databaseUrl, `select count(*)::int as n from callback_tasks
          where last_dispatch_status = 'initiated' and last_sla_alert_due_at is not null`),
        (rows) => rows[0]!.n === TASKS,
        30_000
      )
      expect(settled[0]!.n).toBe(TASKS)
      // A later task is dispatched too: the schedules kept running after the first ones were handled.
      const marker = yield* on(b, "POST", "/api/v1/callback-tasks", { disposition: "callback_requested", queue_key: "callbacks", customer_phone: "+15558889999" })
      yield* eventuallyHolds(
        query<{ s: string | null }>(databaseUrl, "select last_dispatch_status as s from callback_tasks where id = $1", [marker.body.id]),
        (rows) => rows[0]?.s === "initiated",
        20_000
      )

      const dialled = twilio.requests.filter((r) => r.path.endsWith("/Calls.json")).map((r) => String(r.form.To))
      for (const phone of phones) expect(dialled.filter((to) => to === phone), phone).toHaveLength(1)
      const attempts = yield* query<{ n: number }>(databaseUrl, "select dispatch_attempt_count as n from callback_tasks where id = any($1)", [ids])
      expect(attempts.map((row) => row.n)).toEqual(ids.map(() => 1))
      const alerts = yield* query<{ id: string; n: number }>(databaseUrl, `select payload->'data'->>'id' as id, count(*)::int as n
        from webhook_outbox where event = 'voice.callback_task.sla_breached' group by 1`)
      expect(alerts.length).toBe(TASKS)
      expect(alerts.every((row) => row.n === 1)).toBe(true)
      // Neither replica was harmed by the race.
      expect((yield* call(a, "GET", "/health/ready")).status).toBe(200)
      expect((yield* call(b, "GET", "/health/ready")).status).toBe(200)
    }), 120_000)
})
