import { SqlClient } from "@effect/sql"
import { afterAll, expect } from "@effect/vitest"
import { Clock, Effect, Layer } from "effect"
import { CallRecords, type CompletedCall } from "../src/CallLogs/CallRecords.js"
import { CallLogWrites } from "../src/CallLogs/Writes.js"
import { idempotencyKey } from "../src/Outbox/BillingDelivery.js"
import { startWebhookReceiver } from "./support/FakeWebhookReceiver.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, request, serverSuite } from "./support/TestServer.js"
import { callRecord, recordCall } from "./support/VoiceRecordFixtures.js"

const receiver = await startWebhookReceiver()
afterAll(() => receiver.close())

const TENANT = "billing-co"

const tenant = Layer.effectDiscard(Effect.gen(function*() {
  const res = yield* request("PUT", `/api/v1/admin/tenants/${TENANT}`, { headers: adminHeaders, json: { tenant_id: TENANT } })
  if (res.status !== 200) return yield* Effect.dieMessage(res.text)
}))

/** A call the agent closed after a real exchange: resolved, unless a machine answered. */
const finishedCall = (callSid: string, at: Date): CompletedCall => ({
  tenantId: TENANT,
  streamSid: `MZ${callSid}`,
  callSid,
  direction: "outbound",
  from: "+15550001000",
  to: "+15557654321",
  agentVersionId: null,
  model: "gpt-realtime",
  voice: "verse",
  startedAt: new Date(at.getTime() - 40_000),
  endedAt: at,
  endReason: "end_call_tool",
  errorMessage: null,
  transcript: [
    { role: "assistant", content: "Hi, this is Acme calling about your appointment.", timestamp: at },
    { role: "user", content: "Hi, you've reached Sam, leave a message.", timestamp: at }
  ],
  functionCalls: [],
  turnLatencies: [],
  escalated: false,
  escalationReason: null
})

const answeredBy = (callSid: string, who: string, at: Date) =>
  Effect.flatMap(CallLogWrites, (writes) =>
    writes.statusReported({
      tenantId: TENANT,
      callSid,
      direction: "outbound",
      from: "+15550001000",
      to: "+15557654321",
      twilioStatus: "completed",
      durationSeconds: 40,
      answeredBy: who,
      recordingUrl: null,
      at
    })).pipe(Effect.provide(CallLogWrites.Default), Effect.orDie)

const outcomeOf = (streamSid: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ id: string; resolution: string; billing_status: string; billable_sku: string | null; billing_attempts: number }>`
      select id, resolution, billing_status, billable_sku, billing_attempts from voice_outcomes
      where tenant_id = ${TENANT} and stream_sid = ${streamSid}`).pipe(Effect.map((rows) => rows[0]!), Effect.orDie)

const sweep = (query = "") => request("POST", `/api/v1/admin/outboxes/billing-outcomes/sweep${query}`, { headers: adminHeaders })

serverSuite({
  ALLOW_PRIVATE_OUTBOUND_URLS: "true",
  BILLING_OUTCOMES_URL: receiver.url("/billing"),
  // The sweep endpoint does the delivering here, so its counts are exact.
  OUTBOX_WORKER_ENABLED: "false"
}, { seed: tenant })("billing outcome delivery", (it) => {
  it.effect("a resolved call is billed once with its idempotency key; a voicemail never is, even when AMD answers late", () =>
    Effect.gen(function*() {
      receiver.script("/billing", [{ status: 202 }])
      const records = yield* CallRecords
      const now = new Date(yield* Clock.currentTimeMillis)
      // A machine answered, known before the record: not resolved, not billable.
      yield* answeredBy("CAvoicemail1", "machine_end_beep", now)
      yield* records.recordCompletedCall(finishedCall("CAvoicemail1", now))
      expect(yield* outcomeOf("MZCAvoicemail1")).toMatchObject({ resolution: "voicemail", billing_status: "not_billable", billable_sku: null })
      // AMD's answer arriving after the record: caught when billing claims the outcome.
      yield* records.recordCompletedCall(finishedCall("CAvoicemail2", now))
      expect(yield* outcomeOf("MZCAvoicemail2")).toMatchObject({ resolution: "resolved", billing_status: "pending_emit" })
      yield* answeredBy("CAvoicemail2", "machine_start", now)
      // A person answered: billed.
      yield* answeredBy("CAhuman", "human", now)
      yield* records.recordCompletedCall(finishedCall("CAhuman", now))
      const human = yield* outcomeOf("MZCAhuman")
      expect(human).toMatchObject({ resolution: "resolved", billing_status: "pending_emit", billable_sku: "voice_ai_resolution" })

      const before = receiver.on("/billing").length
      const swept = yield* sweep()
      expect(swept.status).toBe(200)
      expectSpecSchema(swept.body, "AdminBillingOutcomeOutboxSweepResponse")
      expect(swept.body).toEqual({ ok: true, attempted: 2, delivered: 1, rescheduled: 0, failed: 1 })
      const posted = receiver.on("/billing").slice(before)
      expect(posted).toHaveLength(1)
      expect(posted[0]!.headers["idempotency-key"]).toBe(idempotencyKey(human.id))
      expect(JSON.parse(posted[0]!.body)).toMatchObject({
        idempotency_key: idempotencyKey(human.id),
        outcome_id: human.id,
        tenant_id: TENANT,
        sku: "voice_ai_resolution",
        resolution: "resolved",
        call_sid: "CAhuman"
      })
      expect(yield* outcomeOf("MZCAhuman")).toMatchObject({ billing_status: "emitted", billing_attempts: 1 })
      expect(yield* outcomeOf("MZCAvoicemail2")).toMatchObject({ resolution: "voicemail", billing_status: "not_billable" })
      // Nothing is due any more: a second sweep sends nothing.
      expect((yield* sweep()).body).toEqual({ ok: true, attempted: 0, delivered: 0, rescheduled: 0, failed: 0 })
    }))

  it.effect("a 5xx is retried on the schedule, a 4xx fails the outcome (failed_billing); depth counts both", () =>
    Effect.gen(function*() {
      yield* recordCall(callRecord(TENANT, "MZ-retry-1"))
      yield* recordCall(callRecord(TENANT, "MZ-retry-2"))
      receiver.script("/billing", [{ status: 500 }, { status: 422 }])
      const swept = yield* sweep("?limit=10")
      expect(swept.body).toEqual({ ok: true, attempted: 2, delivered: 0, rescheduled: 1, failed: 1 })
      const outcomes = [yield* outcomeOf("MZ-retry-1"), yield* outcomeOf("MZ-retry-2")]
      expect(outcomes.map((o) => o.billing_status).sort()).toEqual(["failed_billing", "pending_emit"])
      expect(outcomes.every((o) => o.billing_attempts === 1)).toBe(true)
      // The retry is 5 s away: not due yet.
      expect((yield* sweep()).body.attempted).toBe(0)

      const depth = yield* request("GET", "/api/v1/admin/outboxes/depth", { headers: adminHeaders })
      expectSpecSchema(depth.body, "AdminOutboxDepthResponse")
      const billing = depth.body.depths.find((d: { table: string }) => d.table === "voice_outcomes_billing")
      expect(billing.pending).toBeGreaterThanOrEqual(1)
      expect(billing.failed).toBeGreaterThanOrEqual(1)
      expect((yield* sweep("?limit=0")).status).toBe(400)
    }))
})

serverSuite()("billing outcome delivery, not configured", (it) => {
  it.effect("the sweep answers 503 without BILLING_OUTCOMES_URL", () =>
    Effect.gen(function*() {
      const res = yield* sweep()
      expect(res.status).toBe(503)
      expectSpecSchema(res.body, "AdminErrorResponse")
      expect(res.body.error).toContain("BILLING_OUTCOMES_URL")
    }))
})
