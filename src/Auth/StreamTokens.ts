import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Effect, Either, Option, Redacted, Schedule, Schema } from "effect"
import { AppConfig } from "../Config.js"
import { orUnavailable } from "../Database/Errors.js"
import { Migrations } from "../Database/Migrations.js"
import { constantTimeBufferEquals, hmacSha256, randomId } from "./Crypto.js"
import { ServiceSecrets } from "./ServiceSecrets.js"
import type { CallDirection } from "../CallLogs/CallKey.js"
import { spannedIf, spansExported } from "../Observability/Spans.js"

/** What a stream token vouches for: the call the TwiML was issued for. */
export interface StreamClaims {
  readonly tenantId: string
  readonly callSid: string
  readonly agentVersionId: string | null
  readonly direction: CallDirection
  readonly from: string | null
  readonly to: string | null
  /** A listen-only leg of this live call (its stream SID), not a call of its own (Monitoring/). */
  readonly monitorOf?: string
}

/**
 * The single use a verified token still has to record (`stream_token_uses`): by `claim`, or
 * in the statement that puts the call on the live-call ledger (LiveCalls.hold), so a stream's
 * start costs one round trip. Whoever holds one must record it before the call is accepted.
 */
export interface TokenUse {
  readonly tokenId: string
  readonly tenantId: string
  readonly callSid: string
  readonly expiresAt: Date
}

/** What a verified token says, and the single use it still has to record. */
export interface VerifiedToken {
  readonly claims: StreamClaims
  readonly use: TokenUse
}

export class InvalidStreamToken extends Schema.TaggedError<InvalidStreamToken>()("InvalidStreamToken", {
  reason: Schema.String
}) {
  readonly status = 401 as const
  override get message() {
    return `Invalid stream token: ${this.reason}`
  }
}

const VERSION = "v1"

/** The signed payload (short keys keep the TwiML small). */
const Payload = Schema.Struct({
  t: Schema.String,
  c: Schema.String,
  v: Schema.NullOr(Schema.String),
  d: Schema.Literal("inbound", "outbound", "web"),
  f: Schema.NullOr(Schema.String),
  o: Schema.NullOr(Schema.String),
  /** token id: the single-use key */
  j: Schema.String,
  /** expiry, unix milliseconds */
  e: Schema.Number,
  /** the stream SID a monitor leg listens to */
  m: Schema.optional(Schema.String)
})
const decodePayloadValue = Schema.decodeUnknownEither(Payload)

/**
 * The payload's JSON decoded by `Payload`: `JSON.parse` and the struct's own decoder, not
 * `parseJson(Payload)`, whose transformation around them was a quarter of the decode's time and
 * 40 % of its allocation (bench/RESULTS.md, stop 38 setupcpu). Text that is not JSON is refused
 * as a payload that does not match is.
 */
const decodePayload = (text: string): Either.Either<typeof Payload.Type, "malformed"> => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return Either.left("malformed")
  }
  return Either.mapLeft(decodePayloadValue(value), () => "malformed" as const)
}

/**
 * The payload's JSON as `Payload`'s encoder writes it (same keys, same order, `m` only for a
 * monitor leg; test/stream-token-verify.test.ts compares the two), without running the schema
 * on values typed already: one token per call set-up.
 */
const payloadText = (claims: StreamClaims, tokenId: string, expiresAt: number): string =>
  JSON.stringify({
    t: claims.tenantId,
    c: claims.callSid,
    v: claims.agentVersionId,
    d: claims.direction,
    f: claims.from,
    o: claims.to,
    j: tokenId,
    e: expiresAt,
    ...(claims.monitorOf === undefined ? {} : { m: claims.monitorOf })
  } satisfies typeof Payload.Type)

const fromBase64Url = (text: string) => Buffer.from(text, "base64url").toString("utf8")

/**
 * Short-lived, single-use credentials for `/media-stream`, handed to Twilio inside the
 * TwiML (`<Parameter name="stream_token">`). HMAC-SHA256 over the payload with
 * STREAM_TOKEN_SECRET (STREAM_TOKEN_SECRET_PREVIOUS still verifies during a rotation);
 * without a configured secret every replica uses the shared `stream_token` service secret.
 */
export class StreamTokens extends Effect.Service<StreamTokens>()("StreamTokens", {
  scoped: Effect.gen(function*() {
    const config = yield* AppConfig
    const secrets = yield* ServiceSecrets
    const sql = yield* SqlClient.SqlClient
    const migrations = yield* Migrations
    // Spans per call only when they are exported, chosen once (Observability/Spans.ts `spannedIf`).
    const traced = yield* spansExported
    const ttlMillis = config.streamTokenTtlSecs * 1000

    const configuredSecret = Option.getOrUndefined(
      Option.map(config.streamTokenSecret, (secret) => Buffer.from(Redacted.value(secret), "utf8"))
    )
    const primarySecret = configuredSecret === undefined ? secrets.get("stream_token") : Effect.succeed(configuredSecret)
    const previousSecret = Option.map(config.streamTokenSecretPrevious, (s) => Buffer.from(Redacted.value(s), "utf8"))

    const sign = (secret: Buffer, body: string) => hmacSha256(secret, `${VERSION}.${body}`)

    /** A token for `claims` signed with `secret`, issued at `now`: plain code. */
    const mintWith = (secret: Buffer, claims: StreamClaims, now: number) => {
      const body = Buffer.from(payloadText(claims, randomId(16), now + ttlMillis), "utf8").toString("base64url")
      return `${VERSION}.${body}.${sign(secret, body).toString("base64url")}`
    }

    const mint = spannedIf(traced, "StreamTokens.mint", Effect.fnUntraced(function*(claims: StreamClaims) {
      const secret = yield* primarySecret
      return mintWith(secret, claims, yield* Clock.currentTimeMillis)
    }))

    /** The signing secret when no read is needed for it (configured, or read already), else undefined. */
    const secretNow = (): Buffer | undefined => configuredSecret ?? secrets.known("stream_token")

    const alreadyUsed = Effect.fail(new InvalidStreamToken({ reason: "already used" }))

    /** Records the token's use; false when it was already used (a replay). */
    const recordUse = (use: TokenUse) =>
      orUnavailable(
        sql<{ token_id: string }>`
          insert into stream_token_uses (token_id, tenant_id, call_sid, expires_at)
          values (${use.tokenId}, ${use.tenantId}, ${use.callSid}, ${use.expiresAt})
          on conflict (token_id) do nothing
          returning token_id`
      ).pipe(Effect.map((rows) => rows.length === 1))

    /** A token's signed body and signature, before any secret is needed. */
    const partsOf = (token: string): Either.Either<readonly [body: string, signature: string], InvalidStreamToken> => {
      const parts = token.split(".")
      return parts.length !== 3 || parts[0] !== VERSION || parts[1] === "" || parts[2] === ""
        ? Either.left(new InvalidStreamToken({ reason: "malformed" }))
        : Either.right([parts[1]!, parts[2]!])
    }

    /** Signature, payload and expiry against `secret` (or the previous one) at `now`: plain code. */
    const checked = (
      [body, signature]: readonly [string, string],
      secret: Buffer,
      now: number
    ): Either.Either<VerifiedToken, InvalidStreamToken> => {
      const given = Buffer.from(signature, "base64url")
      const verified = constantTimeBufferEquals(given, sign(secret, body)) ||
        (Option.isSome(previousSecret) && constantTimeBufferEquals(given, sign(previousSecret.value, body)))
      if (!verified) return Either.left(new InvalidStreamToken({ reason: "signature mismatch" }))
      const decoded = decodePayload(fromBase64Url(body))
      if (Either.isLeft(decoded)) return Either.left(new InvalidStreamToken({ reason: "malformed payload" }))
      const payload = decoded.right
      if (now >= payload.e) return Either.left(new InvalidStreamToken({ reason: "expired" }))
      const claims = {
        tenantId: payload.t,
        callSid: payload.c,
        agentVersionId: payload.v,
        direction: payload.d,
        from: payload.f,
        to: payload.o,
        ...(payload.m === undefined ? {} : { monitorOf: payload.m })
      } satisfies StreamClaims
      const use: TokenUse = { tokenId: payload.j, tenantId: payload.t, callSid: payload.c, expiresAt: new Date(payload.e) }
      return Either.right({ claims, use })
    }

    /** Signature, payload and expiry (no SQL): the claims, and the use still to be recorded. */
    const verify = spannedIf(traced, "StreamTokens.verify", Effect.fnUntraced(function*(token: string) {
      const parts = yield* partsOf(token)
      const secret = yield* primarySecret
      return yield* checked(parts, secret, yield* Clock.currentTimeMillis)
    }))

    /**
     * `verify` at `now` as plain code when the secret is known (configured, or read already): the
     * claims or why not. Undefined when the secret must be read first: `verify` then.
     */
    const verifyNow = (token: string, now: number): Either.Either<VerifiedToken, InvalidStreamToken> | undefined => {
      const secret = secretNow()
      return secret === undefined ? undefined : Either.flatMap(partsOf(token), (parts) => checked(parts, secret, now))
    }

    /** Records a verified token's single use; a second use fails. */
    const claim = (use: TokenUse) =>
      Effect.flatMap(recordUse(use), (first) => first ? Effect.void : alreadyUsed)

    /** `verify` and `claim` in one: the claims of a token used for the first time. */
    const redeem = spannedIf(traced, "StreamTokens.redeem", Effect.fnUntraced(function*(token: string) {
      const { claims, use } = yield* verify(token)
      yield* claim(use)
      return claims
    }))

    // Used-token rows only matter until the token would have expired anyway.
    yield* migrations.awaitApplied.pipe(
      Effect.zipRight(
        orUnavailable(sql`delete from stream_token_uses where expires_at < now() - interval '1 hour'`).pipe(
          Effect.catchAll((error) => Effect.logWarning("stream token sweep failed", error.message)),
          Effect.repeat(Schedule.spaced("10 minutes"))
        )
      ),
      Effect.forkScoped
    )

    return { mint, mintWith, secretNow, verify, verifyNow, claim, redeem } as const
  })
}) {}
