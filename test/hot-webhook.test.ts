import { expect } from "@effect/vitest"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { SqlClient } from "@effect/sql"
import { layer } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { AppConfig } from "../src/Config.js"
import { NodeHooks } from "../src/Http/NodeHooks.js"
import { TelemetryLive } from "../src/Telemetry.js"
import { StreamTokens } from "../src/Auth/StreamTokens.js"
import { makeHotUpgrade } from "../src/Media/HotUpgrade.js"
import { makeHotWebhook } from "../src/Twilio/HotWebhook.js"
import {
  accountSid,
  FakeTwilioServer,
  inboundCall as call,
  routedTwilioTenant,
  sign,
  suiteWithFakeTwilio,
  twilioWebhook
} from "./support/FakeTwilioServer.js"
import { startFakeTwilio } from "./support/FakeTwilio.js"
import { parseXml, streamParameters } from "./support/FakeTwilioXml.js"
import { makeTestServer, request } from "./support/TestServer.js"

/**
 * `POST /api/v1/incoming-call` is served in front of HttpApi (src/Twilio/HotWebhook.ts); its
 * legacy alias `/incoming-call` still goes through HttpApi's router, so every outcome is
 * compared with HttpApi's answer to the same webhook (status, headers, body). Signatures come from twilio-node's own
 * signer (`sign`), each over the URL the request was sent to.
 */

const TOKEN = "hotwh-twilio-auth-token"
const SID = accountSid("hotwh")
const FULL_SID = accountSid("hotwhfull")
const NUMBER = "+15550004000"
const FULL_NUMBER = "+15550004100"
const UNROUTED = "+15550004999"

type Params = Record<string, string>
interface Sent {
  readonly params: (fresh: boolean) => Params
  readonly token?: string
  readonly signature?: (path: string, params: Params) => string
  readonly query?: string
}

/** What differs per call in a connect answer (the call's SID and its single-use token). */
const normalise = (text: string, params: Params) => {
  const parameters = text.includes("<Stream") ? streamParameters(parseXml(text)) : {}
  let out = text
  if (parameters.stream_token !== undefined) out = out.replace(parameters.stream_token, "TOKEN")
  // The request's own span (a fresh trace per webhook).
  if (parameters.traceparent !== undefined) out = out.replace(/value="00-[0-9a-f]{32}-[0-9a-f]{16}-01"/, "value=\"TRACEPARENT\"")
  return params.CallSid === undefined ? out : out.replaceAll(params.CallSid, "CALL_SID")
}

/** The webhook through the hot route and through HttpApi (the alias), each a call of its own. */
const bothWays = (sent: Sent) =>
  Effect.gen(function*() {
    const query = sent.query ?? ""
    const once = (path: string) => {
      const params = sent.params(true)
      const signature = sent.signature?.(path + query, params) ??
        (sent.token === undefined ? undefined : sign(sent.token, path + query, params))
      return Effect.map(
        twilioWebhook(path + query, params, signature === undefined ? {} : { signature }),
        (res) => ({ res, params })
      )
    }
    const hot = yield* once("/api/v1/incoming-call")
    const api = yield* once("/incoming-call")
    // Every header but the per-request ones.
    const view = ({ params, res }: { res: { status: number; headers: Readonly<Record<string, string>>; text: string }; params: Params }) => [
      res.status,
      Object.fromEntries(Object.entries(res.headers).filter(([name]) => name !== "x-request-id" && name !== "date")),
      normalise(res.text, params)
    ]
    expect(view(hot)).toEqual(view(api))
    expect(hot.res.headers["x-request-id"]).toEqual(expect.any(String))
    return hot
  })

const Tenants = Effect.gen(function*() {
  yield* routedTwilioTenant("hotwh", { accountSid: SID, authToken: TOKEN }, { phoneNumber: NUMBER, greeting: "Hi & <welcome>" })
  // At its cap of one call from the start: every call it gets is refused with the busy TwiML.
  yield* routedTwilioTenant("hotwhfull", { accountSid: FULL_SID, authToken: TOKEN }, { phoneNumber: FULL_NUMBER }, {
    limits: { max_concurrent_calls: 1 }
  })
})

/** Every outcome through the hot route, compared with HttpApi's answer (the legacy alias) to the same webhook. */
const everyOutcome = Effect.gen(function*() {
      // A valid call: the same TwiML, with a token the media bridge redeems for this call.
      const valid = yield* bothWays({ params: () => call(NUMBER, SID), token: TOKEN })
      expect(valid.res.status).toBe(200)
      const parameters = streamParameters(parseXml(valid.res.text))
      expect(parameters).toMatchObject({ tenant_id: "hotwh", call_sid: valid.params.CallSid, greeting: "Hi & <welcome>" })
      const claims = yield* Effect.flatMap(StreamTokens, (tokens) => tokens.redeem(parameters.stream_token!))
      expect(claims).toMatchObject({ tenantId: "hotwh", callSid: valid.params.CallSid, direction: "inbound" })
      // ... and the call record is opened by the hot route's webhook.
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ n: number }>`select count(*)::int as n from call_logs where call_sid = ${valid.params.CallSid}`
      expect(rows[0]!.n).toBe(1)

      // The explicit tenant in the query (signed with the rest of the URL).
      expect((yield* bothWays({ params: () => call(NUMBER, SID), token: TOKEN, query: "?tenant=hotwh" })).res.status).toBe(200)

      // Bad, missing and tampered signatures.
      const forged = yield* bothWays({ params: () => call(NUMBER, SID), token: "not-the-token" })
      expect([forged.res.status, forged.res.headers["content-type"], forged.res.text]).toEqual([
        401, "text/plain", "Invalid Twilio signature"
      ])
      expect((yield* bothWays({ params: () => call(NUMBER, SID) })).res.status).toBe(401)
      const tampered = yield* bothWays({
        params: () => call(NUMBER, SID),
        signature: (path, params) => sign(TOKEN, path, { ...params, From: "+15550009999" })
      })
      expect(tampered.res.status).toBe(401)

      // An unknown number hears the apology.
      const unknown = yield* bothWays({ params: () => call(UNROUTED, accountSid("nobody")) })
      expect([unknown.res.status, unknown.res.text]).toEqual([200, expect.stringContaining("not configured to take calls")])

      // Over capacity: the busy TwiML (the first call takes the one slot; each later one is refused).
      const first = call(FULL_NUMBER, FULL_SID)
      const taken = yield* twilioWebhook("/api/v1/incoming-call", first, { signature: sign(TOKEN, "/api/v1/incoming-call", first) })
      expect(taken.text).toContain("<Connect>")
      const busy = yield* bothWays({ params: () => call(FULL_NUMBER, FULL_SID), token: TOKEN })
      expect([busy.res.status, busy.res.text]).toEqual([200, expect.stringContaining("All of our lines are busy")])

      // A missing CallSid is the text 400, parameters that are not Twilio's are kept (and signed).
      const noSid = yield* bothWays({ params: () => ({ AccountSid: SID, To: NUMBER }), token: TOKEN })
      expect([noSid.res.status, noSid.res.headers["content-type"], noSid.res.text]).toEqual([
        400, "text/plain", "Missing required parameter CallSid"
      ])
      expect((yield* bothWays({ params: () => call(NUMBER, SID, { Extra: "x y&z", Empty: "" }), token: TOKEN })).res.status)
        .toBe(200)

      // What the hot route leaves to HttpApi is answered by it as before: a repeated form field
      // (undecodable: the JSON 400) and a repeated query parameter (the text 400).
      const body = `${new URLSearchParams(call(NUMBER, SID)).toString()}&CallSid=CA2`
      const headers = { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": "x" }
      const undecodable = yield* Effect.forEach(["/api/v1/incoming-call", "/incoming-call"], (path) =>
        Effect.map(request("POST", path, { headers, body }), (res) => [res.status, res.body?.error]))
      expect(undecodable[0]).toEqual(undecodable[1])
      expect(undecodable[0]![0]).toBe(400)
      const twice = yield* bothWays({ params: () => call(NUMBER, SID), token: TOKEN, query: "?tenant=hotwh&tenant=hotwh" })
      expect([twice.res.status, twice.res.text]).toEqual([400, "Each query parameter may appear only once"])
})

/** What production builds with OTEL_EXPORTER_OTLP_ENDPOINT unset: tracing off (its own AppConfig). */
const productionTelemetry = TelemetryLive.pipe(
  Layer.provide(Layer.fresh(AppConfig.Default)),
  Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map())))
)

// As production runs: tracing off, so the webhook is served off node's request event
// (src/Twilio/PlainWebhook.ts) and its legacy alias by the request fibers' path.
layer(
  Layer.unwrapScoped(Effect.map(startFakeTwilio, (fake) =>
    Layer.merge(
      makeTestServer({ TWILIO_API_BASE_URL: fake.baseUrl }).pipe(Layer.provide(productionTelemetry)),
      Layer.succeed(FakeTwilioServer, fake)
    ))).pipe((server) => Layer.provideMerge(Layer.effectDiscard(Tenants), server)),
  { excludeTestServices: true }
)("incoming-call served off node's request event (tracing off)", (it) => {
  it.effect("answers every outcome as HttpApi does", () =>
    Effect.gen(function*() {
      // The plain path is installed (tracing off), so the outcomes below are its answers.
      expect((yield* NodeHooks).request).toBeDefined()
      yield* everyOutcome
    }))
})

suiteWithFakeTwilio({}, Layer.effectDiscard(Tenants))("incoming-call fast path", (it) => {
  it.effect("answers every outcome as HttpApi does", () =>
    Effect.gen(function*() {
      // Tracing on (Effect's own tracer): the request fibers' path, whose span the TwiML links to.
      expect((yield* NodeHooks).request).toBeUndefined()
      yield* everyOutcome
    }))

  it.effect("takes exactly the requests it is for and leaves the rest to HttpApi", () =>
    Effect.gen(function*() {
      const hot = yield* makeHotWebhook
      const app = hot(Effect.succeed(HttpServerResponse.empty({ status: 418 })))
      const form = "application/x-www-form-urlencoded"
      const status = (method: string, url: string, body: string | undefined, contentType = form) =>
        Effect.map(
          Effect.provideService(app, HttpServerRequest.HttpServerRequest, HttpServerRequest.fromWeb(
            new Request(`http://voice.test${url}`, {
              method,
              headers: { "content-type": contentType },
              ...(body === undefined ? {} : { body })
            })
          )),
          (response) => response.status
        )
      const params = new URLSearchParams(call(NUMBER, SID)).toString()
      const taken: Array<[string, string, string | undefined, string?]> = [
        ["POST", "/api/v1/incoming-call", params],
        ["POST", "/api/v1/incoming-call?tenant=hotwh", params],
        ["POST", "/api/v1/incoming-call", params, "application/x-www-form-urlencoded; charset=utf-8"],
        ["POST", "/api/v1/incoming-call", ""]
      ]
      for (const [method, url, body, type] of taken) {
        expect([method, url, type, (yield* status(method, url, body, type)) === 418]).toEqual([method, url, type, false])
      }
      const left: Array<[string, string, string | undefined, string?]> = [
        ["GET", "/api/v1/incoming-call", undefined],
        ["POST", "/incoming-call", params],
        ["POST", "/api/v1/incoming-call-sip", params],
        ["POST", "/api/v1/incoming-callx", params],
        ["POST", "/api/v1/outbound-call", params],
        ["POST", "/api/v1/%69ncoming-call", params],
        ["POST", "/api/v1/incoming-call?tenant=a&tenant=b", params],
        ["POST", "/api/v1/incoming-call?tenant=a%20b", params],
        ["POST", "/api/v1/incoming-call", `${params}&CallSid=CA2`],
        ["POST", "/api/v1/incoming-call", JSON.stringify(call(NUMBER, SID)), "application/json"],
        ["POST", "/api/v1/incoming-call", params, "text/plain"]
      ]
      for (const [method, url, body, type] of left) {
        expect([method, url, type, yield* status(method, url, body, type)]).toEqual([method, url, type, 418])
      }
    }))

  it.effect("the media upgrade's fast path takes GET /media-stream (with any query) and nothing else", () =>
    Effect.gen(function*() {
      const hot = yield* makeHotUpgrade
      const app = hot(Effect.succeed(HttpServerResponse.empty({ status: 418 })))
      const answer = (method: string, url: string) =>
        Effect.flatMap(
          Effect.provideService(app, HttpServerRequest.HttpServerRequest, HttpServerRequest.fromWeb(
            new Request(`http://voice.test${url}`, { method })
          )),
          (response) => Effect.map(response.body._tag === "Uint8Array" ? Effect.succeed(new TextDecoder().decode(response.body.body)) : Effect.succeed(""), (text) => [response.status, text])
        )
      // Not a handshake: the route's own plain-text 400, as media-auth.test.ts expects of it.
      for (const url of ["/media-stream", "/media-stream?stream_token=abc", "/media-stream?"]) {
        expect([url, yield* answer("GET", url)]).toEqual([url, [400, "Missing WebSocket upgrade headers"]])
      }
      for (const [method, url] of [["POST", "/media-stream"], ["HEAD", "/media-stream"], ["GET", "/media-stream/"], ["GET", "/media-streams"], ["GET", "/api/v1/media-stream"], ["GET", "/media%2Dstream"]] as const) {
        expect([method, url, yield* answer(method, url)]).toEqual([method, url, [418, ""]])
      }
      // Through the whole server: the same bytes as before the fast path.
      const plain = yield* request("GET", "/media-stream")
      expect([plain.status, plain.headers["content-type"], plain.text]).toEqual([400, "text/plain", "Missing WebSocket upgrade headers"])
    }))
})
