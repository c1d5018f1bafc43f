import { SqlClient } from "@effect/sql"
import { afterAll } from "@effect/vitest"
import { Clock, Effect, Layer } from "effect"
import { CallRecords, type CompletedCall } from "../../src/CallLogs/CallRecords.js"
import { startFakeOpenAIResponses } from "./FakeOpenAIResponses.js"
import { startWebhookReceiver } from "./FakeWebhookReceiver.js"
import { adminHeaders, request } from "./TestServer.js"

// What the post-call analysis tests share: a fake model, a webhook receiver, tenants that point
// their webhooks at it, and a finished call recorded the way the media bridge records it.

/** The summary in the fake model's default answer (`analysisAnswer`). */
export const SUMMARY = "Caller asked where order ORD-77 is; the agent said it shipped yesterday."

export const analysisToken = (tenant: string) => `${tenant}-bearer-token-0123456789`

/** A call the agent closed after a real exchange, as the media bridge reports it. */
export const finishedCall = (tenantId: string, callSid: string, at: Date, agentVersionId: string | null = null): CompletedCall => ({
  tenantId,
  streamSid: `MZ${callSid}`,
  callSid,
  direction: "inbound",
  from: "+15555550101",
  to: "+15555550199",
  agentVersionId,
  model: "gpt-realtime",
  voice: "alloy",
  startedAt: new Date(at.getTime() - 60_000),
  endedAt: at,
  endReason: "end_call_tool",
  errorMessage: null,
  transcript: [
    { role: "assistant", content: "Hello, how can I help?", timestamp: at },
    { role: "user", content: "Where is my order ORD-77?", timestamp: at },
    { role: "assistant", content: "It shipped yesterday and arrives Friday.", timestamp: at }
  ],
  functionCalls: [],
  turnLatencies: [],
  escalated: false,
  escalationReason: null
})

/** Records `finishedCall` ending now (stream `MZ<callSid>`), which enqueues its analysis. */
export const recordFinishedCall = (tenantId: string, callSid: string, agentVersionId: string | null = null) =>
  Effect.gen(function*() {
    const at = new Date(yield* Clock.currentTimeMillis)
    yield* (yield* CallRecords).recordCompletedCall(finishedCall(tenantId, callSid, at, agentVersionId))
  }).pipe(Effect.orDie)

/** The analysis job of stream `streamSid`, if any. */
export const jobOf = (tenantId: string, streamSid: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ status: string; attempts: number; last_error: string | null }>`
      select j.status, j.attempts, j.last_error from call_analysis_jobs j
      join voice_sessions s on s.tenant_id = j.tenant_id and s.id = j.voice_session_id
      where j.tenant_id = ${tenantId} and s.stream_id = ${streamSid}`).pipe(Effect.map((rows) => rows[0]), Effect.orDie)

/**
 * Starts the fake model and the webhook receiver for one test file (closed after it), and gives
 * the service configuration pointing at them plus the helpers that seed tenants and read what
 * was delivered.
 */
export const startAnalysisFakes = async () => {
  const openai = await startFakeOpenAIResponses()
  const receiver = await startWebhookReceiver()
  afterAll(() => Promise.all([openai.close(), receiver.close()]))

  const config = {
    OPENAI_API_KEY: "sk-test-analysis-key",
    OPENAI_BASE_URL: openai.baseUrl,
    ANALYSIS_POLL_INTERVAL_MS: "100",
    OUTBOX_POLL_INTERVAL_MS: "200",
    ALLOW_PRIVATE_OUTBOUND_URLS: "true"
  }

  /** Creates tenant `id` with its bearer token and its webhook at the receiver's `/<id>`. */
  const putTenant = (id: string, settings: Record<string, unknown> = {}) =>
    Effect.gen(function*() {
      const res = yield* request("PUT", `/api/v1/admin/tenants/${id}`, {
        headers: adminHeaders,
        json: { tenant_id: id, auth_token: analysisToken(id), webhook_url: receiver.url(`/${id}`), ...settings }
      })
      if (res.status !== 200) return yield* Effect.dieMessage(`${id}: ${res.status} ${res.text}`)
    })

  /** A suite seed creating each tenant in `ids` with default settings. */
  const seedTenants = (...ids: ReadonlyArray<string>) =>
    Layer.effectDiscard(Effect.forEach(ids, (id) => putTenant(id), { discard: true }))

  /** The webhook events `event` delivered to `tenant` about stream `streamSid`, parsed. */
  const delivered = (tenant: string, event: string, streamSid: string) =>
    receiver.on(`/${tenant}`).map((r) => JSON.parse(r.body)).filter((body) =>
      body.event === event && (body.data.stream_sid === streamSid || body.data.stream_id === streamSid)
    )

  return { openai, receiver, config, putTenant, seedTenants, delivered }
}
