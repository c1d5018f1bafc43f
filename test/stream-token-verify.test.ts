import { expect, layer } from "@effect/vitest"
import * as crypto from "node:crypto"
import { Effect, Either, Schema } from "effect"
import { type InvalidStreamToken, StreamTokens, type VerifiedToken } from "../src/Auth/StreamTokens.js"
import type { DatabaseUnavailable } from "../src/Database/Errors.js"
import { makeTestServer } from "./support/TestServer.js"
import { atTime } from "./support/TestTime.js"

const PRIMARY = "primary-stream-secret"
const PREVIOUS = "previous-stream-secret"
const NOW = Date.parse("2026-12-03T12:00:00Z")

/** A token as the format is documented (`v1.<payload>.<HMAC-SHA256 of "v1.<payload>">`), signed here, not by the service. */
const signedText = (secret: string, text: string) => {
  const body = Buffer.from(text, "utf8").toString("base64url")
  return `v1.${body}.${crypto.createHmac("sha256", secret).update(`v1.${body}`).digest("base64url")}`
}
const signed = (secret: string, payload: unknown) => signedText(secret, JSON.stringify(payload))

const payload = (overrides: Record<string, unknown> = {}) => ({
  t: "acme",
  c: "CA00000000000000000000000000000001",
  v: null,
  d: "inbound",
  f: "+15551230001",
  o: "+15551230002",
  j: "token-1",
  e: NOW + 60_000,
  ...overrides
})

const tokens = {
  valid: signed(PRIMARY, payload()),
  "during a rotation": signed(PREVIOUS, payload({ m: "MZ00000000000000000000000000000001" })),
  "another secret": signed("someone-else", payload()),
  expired: signed(PRIMARY, payload({ e: NOW })),
  "not JSON": signedText(PRIMARY, "{"),
  "payload not the schema": signed(PRIMARY, payload({ d: "sideways" })),
  "two parts": "v1.abc",
  "an empty body": "v1..abc",
  "another version": signed(PRIMARY, payload()).replace(/^v1/, "v2")
}

/** What a check found, comparable across the two: the claims and use, or the reason. */
const outcome = (checked: Either.Either<VerifiedToken, InvalidStreamToken | DatabaseUnavailable>) =>
  Either.match(checked, {
    onLeft: (error) => ({ refused: error._tag === "InvalidStreamToken" ? error.reason : error._tag }),
    onRight: (verified) => ({ verified })
  })

layer(makeTestServer({ STREAM_TOKEN_SECRET: PRIMARY, STREAM_TOKEN_SECRET_PREVIOUS: PREVIOUS }))("stream token check", (it) => {
  it.effect("as plain code (the start's check) it says what verify says, reason for reason", () =>
    Effect.gen(function*() {
      const streamTokens = yield* StreamTokens
      for (const [name, token] of Object.entries(tokens)) {
        const plain = streamTokens.verifyNow(token, NOW)
        // The secret is configured: nothing to read, so the plain check always answers.
        expect(plain, name).toBeDefined()
        const viaEffect = yield* Effect.either(streamTokens.verify(token)).pipe(atTime(new Date(NOW).toISOString()))
        expect(outcome(plain!), name).toEqual(outcome(viaEffect))
      }
      expect(outcome(streamTokens.verifyNow(tokens.valid, NOW)!)).toEqual({
        verified: {
          claims: { tenantId: "acme", callSid: payload().c, agentVersionId: null, direction: "inbound", from: "+15551230001", to: "+15551230002" },
          use: { tokenId: "token-1", tenantId: "acme", callSid: payload().c, expiresAt: new Date(NOW + 60_000) }
        }
      })
      expect(outcome(streamTokens.verifyNow(tokens["during a rotation"], NOW)!)).toMatchObject({
        verified: { claims: { monitorOf: "MZ00000000000000000000000000000001" } }
      })
      expect([tokens["another secret"], tokens.expired, tokens["not JSON"], tokens["payload not the schema"], tokens["two parts"]]
        .map((token) => outcome(streamTokens.verifyNow(token, NOW)!)))
        .toEqual([
          { refused: "signature mismatch" },
          { refused: "expired" },
          { refused: "malformed payload" },
          { refused: "malformed payload" },
          { refused: "malformed" }
        ])
    }))

  it.effect("a minted token carries the documented payload, as its schema writes it, with a fresh id each time", () =>
    Effect.gen(function*() {
      const streamTokens = yield* StreamTokens
      // The format's payload, written by a schema of the test's own (keys in the documented order).
      const Documented = Schema.parseJson(Schema.Struct({
        t: Schema.String, c: Schema.String, v: Schema.NullOr(Schema.String), d: Schema.String, f: Schema.NullOr(Schema.String),
        o: Schema.NullOr(Schema.String), j: Schema.String, e: Schema.Number, m: Schema.optional(Schema.String)
      }))
      const claims = { tenantId: "acme", callSid: payload().c, agentVersionId: "7d0f0ad1-0d6d-4b0e-8e84-1c1f7f9c5f3a", direction: "inbound", from: "+15551230001", to: null } as const
      const ids = new Set<string>()
      for (const monitorOf of [undefined, "MZ00000000000000000000000000000001"]) {
        for (let i = 0; i < 300; i++) {
          const token = streamTokens.mintWith(Buffer.from(PRIMARY), monitorOf === undefined ? claims : { ...claims, monitorOf }, NOW)
          const [version, body, mac] = token.split(".")
          expect(version).toBe("v1")
          expect(mac).toBe(crypto.createHmac("sha256", PRIMARY).update(`v1.${body}`).digest("base64url"))
          const text = Buffer.from(body!, "base64url").toString("utf8")
          const decoded = Schema.decodeUnknownSync(Documented)(text)
          expect(Schema.encodeSync(Documented)(decoded)).toBe(text)
          expect(decoded).toEqual({ t: "acme", c: payload().c, v: claims.agentVersionId, d: "inbound", f: "+15551230001", o: null, j: decoded.j, e: NOW + 60_000, ...(monitorOf === undefined ? {} : { m: monitorOf }) })
          // 16 random bytes, base64url: 22 characters, never repeated.
          expect(decoded.j).toMatch(/^[A-Za-z0-9_-]{22}$/)
          ids.add(decoded.j)
          expect(outcome(streamTokens.verifyNow(token, NOW)!)).toMatchObject({ verified: { claims: monitorOf === undefined ? claims : { ...claims, monitorOf } } })
        }
      }
      expect(ids.size).toBe(600)
    }))
})
