import { layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import twilio from "twilio"
import { type FakeTwilio, startFakeTwilio } from "./FakeTwilio.js"
import { adminHeaders, makeTestServer, request, seeded, type TestServer } from "./TestServer.js"

/** The fake Twilio REST server the suite's service talks to. */
export class FakeTwilioServer extends Context.Tag("FakeTwilioServer")<FakeTwilioServer, FakeTwilio>() {}

/**
 * A test server whose TWILIO_API_BASE_URL is a fresh fake Twilio (also available as
 * `FakeTwilioServer`); `seed` writes the data the suite's tests share (see `seeded`).
 */
export const suiteWithFakeTwilio = <S = never>(
  config: Record<string, string> = {},
  seed?: Layer.Layer<S, unknown, TestServer | FakeTwilioServer>
) =>
  layer(
    seeded(
      Layer.unwrapScoped(Effect.map(startFakeTwilio, (fake) =>
        Layer.merge(
          makeTestServer({ TWILIO_API_BASE_URL: fake.baseUrl, ...config }),
          Layer.succeed(FakeTwilioServer, fake)
        ))),
      seed
    ),
    { excludeTestServices: true }
  )

/** PUBLIC_BASE_URL of test servers (test/support/TestServer.ts). */
export const PUBLIC_BASE_URL = "http://voice.test"

/** Twilio's own signature (twilio-node), so our verifier is checked against an independent implementation. */
export const sign = (authToken: string, path: string, params: Record<string, string>) =>
  twilio.getExpectedTwilioSignature(authToken, `${PUBLIC_BASE_URL}${path}`, params)

/** POSTs a voice webhook as Twilio does: form-encoded, signed with `authToken` unless a signature is given. */
export const twilioWebhook = (
  path: string,
  params: Record<string, string>,
  options: { readonly authToken?: string; readonly signature?: string; readonly headers?: Record<string, string> } = {}
) =>
  request("POST", path, {
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(options.signature !== undefined
        ? { "x-twilio-signature": options.signature }
        : options.authToken !== undefined
        ? { "x-twilio-signature": sign(options.authToken, path, params) }
        : {}),
      ...options.headers
    },
    body: new URLSearchParams(params).toString()
  })

/** A well-formed AccountSid (AC + 32 hex) derived from a readable seed. */
export const accountSid = (seed: string) => `AC${Buffer.from(seed).toString("hex").padEnd(32, "0").slice(0, 32)}`

let callCounter = 0
/** A fresh, well-formed Twilio call SID. */
export const newCallSid = () => `CA${(Date.now().toString(16) + (++callCounter).toString(16)).padStart(32, "0")}`

/** The caller of `inboundCall`s unless one is given. */
export const CALLER = "+15557654321"

/** The form parameters of a ringing inbound call to `to` on `account`, with a fresh CallSid. */
export const inboundCall = (to: string, account: string, extra: Record<string, string> = {}) => ({
  CallSid: newCallSid(),
  AccountSid: account,
  From: CALLER,
  To: to,
  Direction: "inbound",
  CallStatus: "ringing",
  ...extra
})

/** Creates (or replaces) a tenant through the admin API. */
export const putTenant = (tenantId: string, config: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    const res = yield* request("PUT", `/api/v1/admin/tenants/${tenantId}`, {
      headers: adminHeaders,
      json: { tenant_id: tenantId, auth_token: `${tenantId}-bearer-token-0123456789`, ...config }
    })
    if (res.status !== 200) return yield* Effect.dieMessage(`tenant ${tenantId}: ${res.status} ${res.text}`)
    return { authorization: `Bearer ${tenantId}-bearer-token-0123456789` }
  })

/** An agent with one published version, and optionally a phone route to it. */
export const agentWithRoute = (
  tenantId: string,
  route?: { readonly phoneNumber: string; readonly direction?: string; readonly pin?: boolean; readonly greeting?: string }
) =>
  Effect.gen(function*() {
    const admin = (method: "POST" | "PUT", path: string, json: unknown) =>
      request(method, `/api/v1/admin/tenants/${tenantId}${path}`, { headers: adminHeaders, json })
    const agent = yield* admin("POST", "/agents", { agent_key: "default", name: "Front Desk" })
    const agentId: string = agent.body.agent.id
    const version = yield* admin("POST", "/agent-versions", { agent_id: agentId, config: { voice: "verse" } })
    const versionId: string = version.body.version.id
    const published = yield* admin("POST", `/agent-versions/${versionId}/publish`, {})
    if (published.status !== 200) return yield* Effect.dieMessage(`publish: ${published.status} ${published.text}`)
    if (route !== undefined) {
      const routed = yield* admin("PUT", "/phone-number-routes", {
        phone_number: route.phoneNumber,
        direction: route.direction ?? "inbound",
        agent_id: agentId,
        agent_version_id: route.pin === true ? versionId : null,
        greeting: route.greeting ?? null
      })
      if (routed.status !== 200) return yield* Effect.dieMessage(`route: ${routed.status} ${routed.text}`)
    }
    return { agentId, versionId }
  })

/**
 * A tenant on a Twilio account (`accountSid`, webhooks signed with `authToken`) whose
 * number routes to a published agent: what every incoming-call suite starts from.
 */
export const routedTwilioTenant = (
  tenantId: string,
  twilioAccount: { readonly accountSid: string; readonly authToken: string },
  route: { readonly phoneNumber: string; readonly pin?: boolean; readonly greeting?: string },
  config: Record<string, unknown> = {}
) =>
  Effect.zipRight(
    putTenant(tenantId, { twilio: { account_sid: twilioAccount.accountSid, auth_token: twilioAccount.authToken }, ...config }),
    agentWithRoute(tenantId, route)
  )

/** A signed inbound-call webhook, as Twilio sends it, to a server at `baseUrl` (another process). */
export const ringAt = (
  baseUrl: string,
  call: { readonly accountSid: string; readonly authToken: string; readonly to: string; readonly from?: string }
) =>
  Effect.promise(async () => {
    const params = { CallSid: newCallSid(), AccountSid: call.accountSid, From: call.from ?? CALLER, To: call.to }
    const res = await fetch(`${baseUrl}/api/v1/incoming-call`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": sign(call.authToken, "/api/v1/incoming-call", params)
      },
      body: new URLSearchParams(params).toString()
    })
    return { status: res.status, text: await res.text() }
  })
