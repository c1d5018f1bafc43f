import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { type StreamClaims, StreamTokens } from "../../src/Auth/StreamTokens.js"
import { eventually } from "./Eventually.js"
import { FakeOpenAI, withFakeOpenAI } from "./FakeOpenAIRealtime.js"
import { untilHeld } from "./HeldCalls.js"
import { startFakeTwilio } from "./FakeTwilio.js"
import { FakeTwilioServer, putTenant } from "./FakeTwilioServer.js"
import { expectSpecSchema } from "./SpecSchemas.js"
import { makeTestServer, request, type TestServerOptions } from "./TestServer.js"
import { mediaStreamUrl, TwilioMediaClient } from "./TwilioMediaClient.js"

/** What media suites share: tenants `acme` (no Twilio credentials) and `acme-rest` (with them). */
export const ACME = { tenantId: "acme", auth: { authorization: "Bearer acme-bearer-token-0123456789" } }
export const ACME_REST = { tenantId: "acme-rest", auth: { authorization: "Bearer acme-rest-bearer-token-0123456789" } }
export const ACME_REST_ACCOUNT = { sid: `AC${"ab".repeat(16)}`, token: "twilio-auth-token-123" }

/** A distinct 20 ms mu-law frame per index, so order and content are both checked. */
export const frame = (index: number, salt = 0) =>
  Buffer.from(Array.from({ length: 160 }, (_, i) => (index * 7 + i + salt) & 0xff))

export const promise = <A>(run: () => Promise<A>) => Effect.promise(run)

const tenants = Layer.effectDiscard(Effect.gen(function*() {
  const twilio = yield* FakeTwilioServer
  twilio.accounts.set(ACME_REST_ACCOUNT.sid, ACME_REST_ACCOUNT.token)
  yield* putTenant(ACME.tenantId, { display_name: "Acme Plumbing", voice: "verse", org_id: "org-acme" })
  yield* putTenant(ACME_REST.tenantId, {
    display_name: "Acme Plumbing",
    voice: "verse",
    twilio: { account_sid: ACME_REST_ACCOUNT.sid, auth_token: ACME_REST_ACCOUNT.token }
  })
}))

/** The service with a fake OpenAI Realtime, a fake Twilio REST API and the tenants above. */
export const MediaSuite = (config: Record<string, string> = {}, options: TestServerOptions = {}) =>
  withFakeOpenAI((fake) =>
    Layer.unwrapScoped(Effect.map(startFakeTwilio, (twilio) =>
      tenants.pipe(
        Layer.provideMerge(Layer.merge(
          makeTestServer({
            OPENAI_BASE_URL: fake.url,
            OPENAI_API_KEY: "sk-test-key",
            TWILIO_API_BASE_URL: twilio.baseUrl,
            ...config
          }, options),
          Layer.succeed(FakeTwilioServer, twilio)
        ))
      )))
  )

let calls = 0

/** Fresh call and stream SIDs, and a stream token for them. */
export const newCall = (tenantId = ACME.tenantId) =>
  Effect.gen(function*() {
    const n = ++calls
    const claims: StreamClaims = {
      tenantId,
      callSid: `CA${String(n).padStart(32, "0")}`,
      agentVersionId: null,
      direction: "inbound",
      from: "+15551230001",
      to: "+15551230002"
    }
    const token = yield* (yield* StreamTokens).mint(claims)
    return { callSid: claims.callSid!, streamSid: `MZ${String(n).padStart(32, "0")}`, token }
  })

/** Opens the media stream of `call` as Twilio does (connected, start with its token). */
export const dial = (call: { readonly callSid: string; readonly streamSid: string; readonly token: string }) =>
  Effect.gen(function*() {
    const url = yield* mediaStreamUrl()
    const client = yield* promise(() => TwilioMediaClient.open(url))
    client.connected()
    client.start({ streamSid: call.streamSid, callSid: call.callSid, customParameters: { stream_token: call.token } })
    return client
  })

/**
 * A connected, authenticated call, held by the service (registered, with its ledger row): the
 * Twilio side and its upstream session.
 */
export const startCall = (tenantId = ACME.tenantId) =>
  Effect.gen(function*() {
    const fake = yield* FakeOpenAI
    const call = yield* newCall(tenantId)
    const before = fake.connections.length
    const client = yield* dial(call)
    const upstream = yield* promise(() => fake.connection(before))
    yield* promise(() => upstream.spokenTo())
    yield* untilHeld(tenantId, call.streamSid)
    return { ...call, client, upstream }
  })

/** The calls the API lists for a Twilio call SID. */
export const listed = (callSid: string, auth = ACME.auth) =>
  Effect.map(request("GET", `/api/v1/call-logs?call_sid=${callSid}`, { headers: auth }), (res) => {
    expect(res.status).toBe(200)
    return res.body.calls as Array<any>
  })

/** The call log through the API once the bridge has written it, plus its end reason (not exposed). */
export const waitForLog = (callSid: string, tenant = ACME) =>
  Effect.gen(function*() {
    const calls = yield* eventually(listed(callSid, tenant.auth), (calls) => calls[0]?.ended_at != null, 10_000)
    expect(calls).toHaveLength(1)
    const detail = yield* request("GET", `/api/v1/call-logs/${calls[0].id}`, { headers: tenant.auth })
    expect(detail.status).toBe(200)
    expectSpecSchema(detail.body, "CallLogDetailResponse")
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{ end_reason: string; turn_latency_stats: any }>`
      select end_reason, turn_latency_stats from call_logs
      where tenant_id = ${tenant.tenantId} and id = ${calls[0].id}`.pipe(Effect.orDie)
    return { ...detail.body.call, end_reason: row!.end_reason, turn_latency_stats: row!.turn_latency_stats }
  })

/** The tenant's live calls (`GET /api/v1/sessions`), checked against the spec. */
export const sessions = (auth = ACME.auth) =>
  Effect.map(request("GET", "/api/v1/sessions", { headers: auth }), (res) => {
    expect(res.status).toBe(200)
    expectSpecSchema(res.body, "SessionsListResponse")
    return res.body.sessions as Array<any>
  })

/** Waits until `streamSid` is no longer live anywhere: its call has run every finalizer. */
export const waitUntilGone = (streamSid: string, auth = ACME.auth) =>
  Effect.gen(function*() {
    const live = yield* eventually(sessions(auth), (list) => !list.some((s) => s.stream_sid === streamSid), 10_000)
    expect(live.map((s) => s.stream_sid)).not.toContain(streamSid)
  })
