import { SqlClient } from "@effect/sql"
import { expect, layer, type Vitest } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { AppConfig } from "../src/Config.js"
import { TelemetryLive } from "../src/Telemetry.js"
import { eventually } from "./support/Eventually.js"
import { exportingToFakeCollector, OtlpCollector as Collector, type OtlpSpan, spans } from "./support/FakeOtlpCollector.js"
import { accountSid, agentWithRoute, newCallSid, putTenant, twilioWebhook } from "./support/FakeTwilioServer.js"
import { parseXml, streamParameters } from "./support/FakeTwilioXml.js"
import { adminHeaders, makeTestServer, request, type TestServer } from "./support/TestServer.js"

/**
 * The inbound admission (Limits.admitInbound, InboundGate.check) has one body; whether it runs in
 * spans is chosen when the layers are built. So every outcome here is checked twice: on a server
 * with production's telemetry and no exporter (src/Telemetry.ts: tracing off, no span made) and
 * on one exporting to a fake OTLP collector (the spanned variant, whose spans are checked too).
 * Metrics are one registry per process: tenants are named per suite.
 */

// A per-replica cap small enough to reach; each test clears the admissions it starts with.
const CONFIG = { METRICS_ENABLED: "true", MAX_CALLS_PER_REPLICA: "4" }

/** What production builds with OTEL_EXPORTER_OTLP_ENDPOINT unset (its own AppConfig: the server's is memoised apart). */
const productionTelemetry = TelemetryLive.pipe(
  Layer.provide(Layer.fresh(AppConfig.Default)),
  Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map())))
)

const BUSY = "All of our lines are busy"

interface Refusal {
  readonly call_sid: string | null
  readonly target: string | null
  readonly reason: string
  readonly note: string
}

const refusalRows = (tenantId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<Refusal>`
      select call_sid, target, reason, note from supervisor_actions
      where tenant_id = ${tenantId} and action = 'refuse' and supervisor = 'limits' order by created_at`)

const callLogs = (tenantId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ call_sid: string; from_number: string | null; twilio_status: string | null }>`
      select call_sid, from_number, twilio_status from call_logs where tenant_id = ${tenantId} order by first_seen_at`)

const admissions = (tenantId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(sql<{ call_sid: string | null }>`select call_sid from call_admissions where tenant_id = ${tenantId}`,
      (rows) => rows.map((r) => r.call_sid)))

/** Earlier tests' calls would count against this suite's per-replica cap. */
const clearAdmissions = Effect.flatMap(SqlClient.SqlClient, (sql) => sql`delete from call_admissions`)

/** voice_limit_refusals_total for one tenant, reason and kind (labels in any order). */
const refusalsCounted = (tenantId: string, reason: string) =>
  Effect.map(request("GET", "/metrics", { headers: adminHeaders }), (res) =>
    res.text.split("\n")
      .filter((line) =>
        line.startsWith("voice_limit_refusals_total{") && line.includes(`tenant="${tenantId}"`) &&
        line.includes(`reason="${reason}"`) && line.includes("kind=\"inbound_call\""))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0))

/** A tenant with its own Twilio account and `limits`, and an agent answering `number`. */
const inboundTenant = (id: string, number: string, config: Record<string, unknown>) =>
  Effect.gen(function*() {
    yield* putTenant(id, { twilio: { account_sid: accountSid(id), auth_token: `${id}-twilio-token`, from_number: "+15550008000" }, ...config })
    yield* agentWithRoute(id, { phoneNumber: number })
    return (from: string, callSid = newCallSid()) =>
      twilioWebhook("/api/v1/incoming-call", { CallSid: callSid, AccountSid: accountSid(id), From: from, To: number, CallStatus: "ringing" }, {
        authToken: `${id}-twilio-token`
      })
  })

const connects = (text: string) => {
  expect(text).toContain("<Connect>")
  return streamParameters(parseXml(text))
}

const turnedAway = (text: string, message: string) => {
  expect(text).toContain(message)
  expect(text).toContain("<Hangup/>")
  expect(text).not.toContain("<Connect>")
}

/** The traced suite's admission spans of the webhook whose TwiML carried `traceparent`. */
const admissionSpans = (traceparent: string | undefined) =>
  Effect.gen(function*() {
    const { exports } = yield* Collector
    const traceId = traceparent?.split("-")[1]
    const find = (all: ReadonlyArray<OtlpSpan>) => ({
      check: all.find((s) => s.name === "InboundGate.check" && s.traceId === traceId),
      admit: all.find((s) => s.name === "Limits.admitInbound" && s.traceId === traceId)
    })
    return find(yield* eventually(Effect.sync(() => spans(exports)), (all) => {
      const found = find(all)
      return found.check !== undefined && found.admit !== undefined
    }, 5_000))
  })

const scenarios = (suite: "plain" | "traced") => (it: Vitest.MethodsNonLive<TestServer | Collector, true>) => {
  const tenant = (name: string) => `${suite}-${name}`
  const traced = suite === "traced"

  /** The path taken: no span (production's telemetry) or the spanned one, the admission's span a child of the gate's. */
  const expectPath = (traceparent: string | undefined) =>
    Effect.gen(function*() {
      if (!traced) {
        // Tracing is off as in production: the webhook has no span to pass on.
        expect(traceparent).toBeUndefined()
        return
      }
      expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
      const { admit, check } = yield* admissionSpans(traceparent)
      expect(check).toBeDefined()
      expect(admit).toBeDefined()
    })

  it.effect("over the tenant's cap: busy and hang up, one refusal row and metric; the call let through has its call log", () =>
    Effect.gen(function*() {
      yield* clearAdmissions
      const id = tenant("cap")
      const ring = yield* inboundTenant(id, suite === "plain" ? "+15550008101" : "+15550008201", { limits: { max_concurrent_calls: 1 } })
      const first = newCallSid()
      const answered = connects((yield* ring("+15557658001", first)).text)
      expect(answered.call_sid).toBe(first)
      yield* expectPath(answered.traceparent)
      // Twilio retrying the same call's webhook is the same call.
      connects((yield* ring("+15557658001", first)).text)
      const second = newCallSid()
      const busy = yield* ring("+15557658002", second)
      expect(busy.status).toBe(200)
      turnedAway(busy.text, BUSY)

      expect(yield* callLogs(id)).toEqual([{ call_sid: first, from_number: "+15557658001", twilio_status: "ringing" }])
      expect(yield* admissions(id)).toEqual([first])
      expect(yield* refusalRows(id)).toEqual([{
        call_sid: second,
        target: "+15557658002",
        reason: "tenant_concurrency",
        note: "The tenant already has 1 of at most 1 concurrent calls"
      }])
      expect(yield* refusalsCounted(id, "tenant_concurrency")).toBe(1)
    }))

  it.effect("over the cap with callback tasks chosen: the caller hears so and the task exists", () =>
    Effect.gen(function*() {
      yield* clearAdmissions
      const id = tenant("callback")
      const ring = yield* inboundTenant(id, suite === "plain" ? "+15550008102" : "+15550008202", {
        limits: { max_concurrent_calls: 1, over_capacity: "callback_task" }
      })
      connects((yield* ring("+15557658003")).text)
      const refusedSid = newCallSid()
      turnedAway((yield* ring("+15557658004", refusedSid)).text, "will call you back")
      const sql = yield* SqlClient.SqlClient
      expect(yield* sql`select customer_phone, disposition, call_sid from callback_tasks where tenant_id = ${id}`).toEqual([
        { customer_phone: "+15557658004", disposition: "callback_requested", call_sid: refusedSid }
      ])
      expect((yield* refusalRows(id)).map((r) => r.reason)).toEqual(["tenant_concurrency"])
    }))

  it.effect("the per-replica cap counts every tenant's calls: the call over it is refused as capacity", () =>
    Effect.gen(function*() {
      yield* clearAdmissions
      const one = tenant("replica-one")
      const two = tenant("replica-two")
      const ringOne = yield* inboundTenant(one, suite === "plain" ? "+15550008103" : "+15550008203", { limits: { max_concurrent_calls: 50 } })
      const ringTwo = yield* inboundTenant(two, suite === "plain" ? "+15550008104" : "+15550008204", { limits: { max_concurrent_calls: 50 } })
      for (const ring of [ringOne, ringTwo, ringOne, ringTwo]) connects((yield* ring("+15557658005")).text)
      const over = newCallSid()
      turnedAway((yield* ringTwo("+15557658006", over)).text, BUSY)
      expect(yield* refusalRows(two)).toEqual([{
        call_sid: over,
        target: "+15557658006",
        reason: "replica_concurrency",
        note: "This server is at its call capacity; try again shortly"
      }])
      expect(yield* refusalRows(one)).toEqual([])
      expect(yield* refusalsCounted(two, "replica_concurrency")).toBe(1)
      expect((yield* callLogs(two)).length).toBe(2)
    }))

  it.effect("a tenant with webhook events: its own sighting transaction, the same cap and refusal", () =>
    Effect.gen(function*() {
      yield* clearAdmissions
      const id = tenant("events")
      const ring = yield* inboundTenant(id, suite === "plain" ? "+15550008105" : "+15550008205", {
        webhook_url: `https://hooks.invalid/${id}`,
        limits: { max_concurrent_calls: 1 }
      })
      const first = newCallSid()
      const answered = connects((yield* ring("+15557658007", first)).text)
      yield* expectPath(answered.traceparent)
      const second = newCallSid()
      turnedAway((yield* ring("+15557658008", second)).text, BUSY)
      const sql = yield* SqlClient.SqlClient
      expect((yield* callLogs(id)).map((r) => r.call_sid)).toEqual([first])
      expect((yield* sql<{ event: string }>`select event from webhook_outbox where tenant_id = ${id}`).map((r) => r.event))
        .toContain("voice.call.started")
      expect(yield* admissions(id)).toEqual([first])
      expect(yield* refusalRows(id)).toEqual([{
        call_sid: second,
        target: "+15557658008",
        reason: "tenant_concurrency",
        note: "The tenant already has 1 of at most 1 concurrent calls"
      }])
      expect(yield* refusalsCounted(id, "tenant_concurrency")).toBe(1)
    }))

  it.effect("a spent monthly budget: answered by default (sighting recorded), turned away when the tenant chooses", () =>
    Effect.gen(function*() {
      yield* clearAdmissions
      const id = tenant("budget")
      const number = suite === "plain" ? "+15550008106" : "+15550008206"
      const limits = { monthly_call_minutes: 1, max_concurrent_calls: 50 }
      const ring = yield* inboundTenant(id, number, { limits })
      // Two minutes used this month, of one.
      const spent = yield* twilioWebhook("/api/v1/call-status", {
        CallSid: newCallSid(), AccountSid: accountSid(id), From: "+15550008000", To: "+15557658009",
        Direction: "outbound-api", CallStatus: "completed", CallDuration: "120"
      }, { authToken: `${id}-twilio-token` })
      expect(spent.status).toBe(200)
      const answered = newCallSid()
      const first = connects((yield* ring("+15557658010", answered)).text)
      yield* expectPath(first.traceparent)
      expect((yield* callLogs(id)).map((r) => r.call_sid)).toContain(answered)

      yield* putTenant(id, {
        twilio: { account_sid: accountSid(id), auth_token: `${id}-twilio-token`, from_number: "+15550008000" },
        limits: { ...limits, inbound_over_budget: "say_and_hang_up" }
      })
      const refusedSid = newCallSid()
      turnedAway((yield* ring("+15557658011", refusedSid)).text, "unable to take your call right now")
      expect(yield* refusalRows(id)).toEqual([{
        call_sid: refusedSid,
        target: "+15557658011",
        reason: "budget_exhausted",
        note: "The monthly budget of 1 call minutes is spent; it renews on the 1st (UTC)"
      }])
      expect((yield* callLogs(id)).map((r) => r.call_sid)).not.toContain(refusedSid)
      expect(yield* refusalsCounted(id, "budget_exhausted")).toBe(1)
    }))
}

// No collector here: nothing is exported, so its list stays empty (the tests never read it).
const unexported = Layer.succeed(Collector, { exports: [] })

layer(makeTestServer(CONFIG).pipe(Layer.provide(productionTelemetry), Layer.merge(unexported)), { excludeTestServices: true })(
  "inbound admission, production's telemetry (no exporter)",
  scenarios("plain")
)

layer(makeTestServer(CONFIG).pipe(Layer.provideMerge(exportingToFakeCollector)), { excludeTestServices: true })(
  "inbound admission, spans exported",
  scenarios("traced")
)
