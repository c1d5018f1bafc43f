import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { CallRecords, type CompletedCall } from "../../src/CallLogs/CallRecords.js"
import { newCallSid, twilioWebhook } from "./FakeTwilioServer.js"
import type { seededRandom } from "./SeededRandom.js"

/**
 * Random calls written by every path that writes a call's latency or its start (the latency
 * report's tests): records (late ones too), a second stream rewriting a call's record, status
 * callbacks before and after the record, a start moved, calls deleted.
 */

const HOUR = 3_600_000
export const DAY = 24 * HOUR
export const LATENCY_WINDOWS = { "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY, all: null } as const

/** Averages are float sums, whose last bits follow the order rows are read in (either statement's plan). */
export const averagesRounded = (text: string) =>
  JSON.stringify(JSON.parse(text), (key, value) =>
    key.startsWith("avg_") && typeof value === "number" ? Number(value.toPrecision(12)) : value)

export const latencyCalls = ({ int, pick, random }: ReturnType<typeof seededRandom>) => {
  /** A start in the last 40 days, never within 10 minutes of a window's start (the test's clock moves). */
  const randomStart = (now: number) => {
    for (;;) {
      const ago = random() < 0.4 ? random() * 2 * DAY : random() * 40 * DAY
      if ([DAY, 7 * DAY, 30 * DAY].every((edge) => Math.abs(ago - edge) > 10 * 60_000)) return new Date(now - ago)
    }
  }

  /** 0-8 turns; a value may be missing (no audio, no token) and a few calls have none at all. */
  const randomTurns = () =>
    Array.from({ length: random() < 0.15 ? 0 : 1 + int(8) }, () => ({
      llmFirstTokenMs: random() < 0.1 ? null : random() * 1500,
      firstAudioMs: random() < 0.2 ? null : 200 + random() * 3000
    }))

  const completed = (tenantId: string, callSid: string, streamSid: string, startedAt: Date): CompletedCall => ({
    tenantId,
    streamSid,
    callSid,
    direction: pick(["inbound", "outbound"] as const),
    from: "+15551110001",
    to: "+15550008000",
    agentVersionId: null,
    model: pick(["gpt-realtime", "gpt-realtime-mini"]),
    voice: pick(["verse", "alloy"]),
    startedAt,
    endedAt: new Date(startedAt.getTime() + 5_000 + random() * 600_000),
    endReason: "caller_hangup",
    errorMessage: null,
    transcript: [{ role: "user", content: "Where is my order?", timestamp: startedAt }],
    functionCalls: [],
    turnLatencies: randomTurns(),
    escalated: false,
    escalationReason: null
  })

  const status = (tenantId: string, callSid: string, callStatus: string) =>
    twilioWebhook(`/api/v1/call-status?tenant=${tenantId}`, {
      CallSid: callSid,
      CallStatus: callStatus,
      Direction: "inbound",
      From: "+15551110001",
      To: "+15550008000"
    }).pipe(Effect.tap((res) => expect(res.status).toBe(200)))

  /** `count` calls of a tenant; `between` runs after each (e.g. a refresh of cached rollups). */
  const writeCalls = <E = never, R = never>(tenantId: string, count: number, between: Effect.Effect<unknown, E, R> = Effect.void) =>
    Effect.gen(function*() {
      const records = yield* CallRecords
      const sql = yield* SqlClient.SqlClient
      const now = Date.now()
      for (let i = 0; i < count; i++) {
        const callSid = newCallSid()
        // Known from a status callback first (started_at is its first sighting until the record).
        if (random() < 0.2) yield* status(tenantId, callSid, "in-progress")
        const first = completed(tenantId, callSid, `MZ-${callSid}-1`, randomStart(now))
        yield* records.recordCompletedCall(first)
        // Back from an unanswered transfer: a second stream rewrites the record's latency.
        if (random() < 0.2) {
          yield* records.recordCompletedCall(completed(tenantId, callSid, `MZ-${callSid}-2`, new Date(first.endedAt.getTime() + 1_000)))
        }
        if (random() < 0.2) yield* status(tenantId, callSid, "completed")
        if (random() < 0.05) {
          yield* sql`update call_logs set media_started_at = ${randomStart(now)} where tenant_id = ${tenantId} and call_sid = ${callSid}`
        }
        if (random() < 0.05) yield* sql`delete from call_logs where tenant_id = ${tenantId} and call_sid = ${callSid}`
        yield* between
      }
    })

  return { writeCalls } as const
}
