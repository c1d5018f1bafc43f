import { expect } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer, TestClock } from "effect"
import { type InvalidStreamToken, type StreamClaims, StreamTokens } from "../src/Auth/StreamTokens.js"
import type { DatabaseUnavailable } from "../src/Database/Errors.js"
import { AppConfig } from "../src/Config.js"
import { accountSid, agentWithRoute, newCallSid, putTenant, twilioWebhook } from "./support/FakeTwilioServer.js"
import { streamParameters, parseXml } from "./support/FakeTwilioXml.js"
import { serverSuite } from "./support/TestServer.js"
import { atTime } from "./support/TestTime.js"

const claims = (callSid: string): StreamClaims => ({
  tenantId: "acme",
  callSid,
  agentVersionId: null,
  direction: "outbound",
  from: "+15550001111",
  to: "+15557654321"
})

/** Another StreamTokens instance on the same database, configured with `env` (a replica mid-rotation). */
const tokensWith = (env: Record<string, string>) =>
  Effect.flatMap(StreamTokens, Effect.succeed).pipe(
    Effect.provide(StreamTokens.Default.pipe(
      Layer.provide(AppConfig.Default),
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
    ))
  )

const reason = <A>(result: Either.Either<A, InvalidStreamToken | DatabaseUnavailable>) =>
  Either.match(result, {
    onLeft: (error) => (error._tag === "InvalidStreamToken" ? error.reason : error.message),
    onRight: () => "redeemed"
  })

serverSuite({ STREAM_TOKEN_TTL_SECS: "90" })("stream tokens", (it) => {
  it.effect("the TwiML's token is redeemed once, then refused as a replay", () =>
    Effect.gen(function*() {
      yield* putTenant("acme", {})
      yield* agentWithRoute("acme", { phoneNumber: "+15550005000" })
      const callSid = newCallSid()
      const res = yield* twilioWebhook("/api/v1/incoming-call", {
        CallSid: callSid,
        AccountSid: accountSid("acme"),
        From: "+15557654321",
        To: "+15550005000"
      })
      const token = streamParameters(parseXml(res.text)).stream_token!
      const tokens = yield* StreamTokens
      expect((yield* tokens.redeem(token)).callSid).toBe(callSid)
      const replay = yield* Effect.either(tokens.redeem(token))
      expect(reason(replay)).toBe("already used")
      expect(Either.isLeft(replay) && replay.left.status).toBe(401)
    }))

  it.effect("a token expires after STREAM_TOKEN_TTL_SECS", () =>
    Effect.gen(function*() {
      const tokens = yield* StreamTokens
      const lastMoment = yield* tokens.mint(claims(newCallSid()))
      const tooLate = yield* tokens.mint(claims(newCallSid()))
      yield* TestClock.adjust("89999 millis")
      expect(reason(yield* Effect.either(tokens.redeem(lastMoment)))).toBe("redeemed")
      yield* TestClock.adjust("1 millis")
      expect(reason(yield* Effect.either(tokens.redeem(tooLate)))).toBe("expired")
    }).pipe(atTime("2026-03-02T10:00:00Z")))

  it.effect("tampered, truncated and foreign tokens are refused", () =>
    Effect.gen(function*() {
      const tokens = yield* StreamTokens
      const token = yield* tokens.mint(claims(newCallSid()))
      const [version, body, signature] = token.split(".") as [string, string, string]
      const payload = JSON.parse(Buffer.from(body, "base64url").toString("utf8"))
      const forgedBody = Buffer.from(JSON.stringify({ ...payload, t: "other-tenant" })).toString("base64url")
      expect(reason(yield* Effect.either(tokens.redeem(`${version}.${forgedBody}.${signature}`)))).toBe("signature mismatch")
      expect(reason(yield* Effect.either(tokens.redeem(`${version}.${body}`)))).toBe("malformed")
      expect(reason(yield* Effect.either(tokens.redeem("")))).toBe("malformed")
      const stranger = yield* tokensWith({ STREAM_TOKEN_SECRET: "someone-elses-secret" })
      const foreign = yield* stranger.mint(claims(newCallSid()))
      expect(reason(yield* Effect.either(tokens.redeem(foreign)))).toBe("signature mismatch")
      // The untouched token is still good: failed attempts do not use it up.
      expect(reason(yield* Effect.either(tokens.redeem(token)))).toBe("redeemed")
    }))

  it.effect("rotation: the previous secret still verifies, and single use holds across instances", () =>
    Effect.gen(function*() {
      const old = yield* tokensWith({ STREAM_TOKEN_SECRET: "old-secret-0123456789" })
      const rotated = yield* tokensWith({
        STREAM_TOKEN_SECRET: "new-secret-0123456789",
        STREAM_TOKEN_SECRET_PREVIOUS: "old-secret-0123456789"
      })
      const dropped = yield* tokensWith({ STREAM_TOKEN_SECRET: "new-secret-0123456789" })
      const minted = yield* old.mint(claims(newCallSid()))
      expect(reason(yield* Effect.either(dropped.redeem(minted)))).toBe("signature mismatch")
      expect(reason(yield* Effect.either(rotated.redeem(minted)))).toBe("redeemed")
      expect(reason(yield* Effect.either(old.redeem(minted)))).toBe("already used")
      const fresh = yield* rotated.mint(claims(newCallSid()))
      expect(reason(yield* Effect.either(dropped.redeem(fresh)))).toBe("redeemed")
    }))
})
