import { Effect, Either } from "effect"
import type { StreamClaims, StreamTokens, TokenUse } from "../Auth/StreamTokens.js"
import { exportsSpans } from "../Observability/Spans.js"
import { type PreAuth, StreamRejected } from "./Bootstrap.js"
import type { TwilioStart } from "./TwilioEvents.js"
import type { CallKey } from "../CallLogs/CallKey.js"
import { isStorableText } from "../Http/Schemas.js"

/** Who and what a media stream is for, once it has authenticated. */
export interface CallIdentity extends CallKey {
  /** A greeting chosen for this call (phone route or webhook query), passed in the TwiML. */
  readonly greeting: string | null
  /** The agent's name for this call (make-call's `agent_name`), passed in the TwiML. */
  readonly agentName?: string | null
  /** The voice webhook's span (W3C `traceparent`, a TwiML parameter), to link the call's trace to it. */
  readonly traceparent?: string | null
  /** The translation room this stream is a leg of (checked against the room's legs before use). */
  readonly translationRoom?: string | null
  /** Set when the call comes back to the agent after a transfer nobody answered (Twilio's DialCallStatus). */
  readonly transferResult?: string | null
  /** The live call (stream SID) this stream listens to: a supervisor's listen-only leg (Monitoring/). */
  readonly monitorOf?: string | null
  /**
   * The stream token's single use, verified but not yet recorded: the call records it with its
   * ledger row (LiveCalls.hold), any other leg with `StreamTokens.claim`, before it goes on.
   */
  readonly tokenUse?: TokenUse
}

/** Why a stream is refused when the database could not say whether its token was used. */
export const TOKEN_UNCHECKED = "the stream token could not be checked"

const reject = (message: string) => Effect.fail(new StreamRejected({ message }))

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Bounds of what a `start` event may name (the same as the REST schemas', Http/Schemas.ts). */
const LIMITS = { sid: 128, phone: 64, greeting: 4_000, name: 200 } as const

const storable = (value: string | undefined, max: number): boolean =>
  value === undefined || (value.length <= max && isStorableText(value))

const warnDropped = (names: ReadonlyArray<string>) =>
  names.length === 0
    ? Effect.void
    : Effect.logWarning("start event custom parameters ignored: not valid").pipe(Effect.annotateLogs("parameters", names.join(",")))

/** The identity with the dropped parameters' warning, if any. */
const withWarning = (identity: CallIdentity, dropped: ReadonlyArray<string>) =>
  dropped.length === 0 ? Effect.succeed(identity) : Effect.as(warnDropped(dropped), identity)

/**
 * The call's identity from the `start` event and the credential: a stream token (from the
 * upgrade's query, or from `customParameters.stream_token`) vouches for the tenant, the
 * call and the agent version; a tenant bearer credential (internal clients) vouches for
 * the tenant only, the rest comes from the custom parameters. Plain code up to the token's
 * check, which is too when its secret is known and no span is exported (`now` is the start's
 * arrival, the token's expiry is judged at it).
 */
export const identify = (start: TwilioStart, preAuth: PreAuth, tokens: StreamTokens, now: number) =>
  Effect.withFiberRuntime<CallIdentity, StreamRejected>((fiber) => {
    const { callSid, customParameters = {}, streamSid } = start.start
    // The SIDs key the call's record: a stream we could not record is refused up front.
    if (!storable(streamSid, LIMITS.sid) || streamSid === "" || !storable(callSid, LIMITS.sid)) {
      return reject("the start event's streamSid or callSid is not a valid SID")
    }
    const dropped: Array<string> = []
    /** A custom parameter, or null when absent, empty or unusable (then dropped with a warning). */
    const param = (name: string, max: number) => {
      const value = customParameters[name]
      if (value === undefined || value === "") return null
      if (storable(value, max)) return value
      dropped.push(name)
      return null
    }

    const vouched = (claims: StreamClaims, tokenUse: TokenUse | undefined) => {
      // A monitor leg's token is minted before Twilio names the leg's call: it vouches for the call listened to.
      if (claims.monitorOf !== undefined) {
        return withWarning({
          ...claims,
          streamSid,
          callSid: callSid ?? null,
          greeting: null,
          translationRoom: null,
          monitorOf: claims.monitorOf,
          ...(tokenUse === undefined ? {} : { tokenUse })
        }, dropped)
      }
      if (callSid !== undefined && callSid !== claims.callSid) {
        return reject("the stream token was issued for another call")
      }
      // In this order: the warning names the dropped parameters as they are read.
      const greeting = param("greeting", LIMITS.greeting)
      const traceparent = param("traceparent", LIMITS.sid)
      const translationRoom = param("translation_room", LIMITS.sid)
      const transferResult = param("transfer_result", LIMITS.sid)
      const agentName = param("agent_name", LIMITS.name)
      return withWarning({
        ...claims,
        streamSid,
        callSid: claims.callSid,
        greeting,
        agentName,
        traceparent,
        translationRoom,
        transferResult,
        ...(tokenUse === undefined ? {} : { tokenUse })
      }, dropped)
    }

    if (preAuth._tag === "StreamToken") return vouched(preAuth.claims, undefined)
    if (preAuth._tag === "None") {
      const token = param("stream_token", 4_096)
      if (token === null) return reject("no stream token in the start event")
      const verified = exportsSpans(fiber) ? undefined : tokens.verifyNow(token, now)
      if (verified === undefined) {
        return Effect.flatMap(
          tokens.verify(token).pipe(
            Effect.catchTag("InvalidStreamToken", (error) => reject(error.message)),
            Effect.catchTag("DatabaseUnavailable", () => reject(TOKEN_UNCHECKED))
          ),
          ({ claims, use }) => vouched(claims, use)
        )
      }
      return Either.isLeft(verified) ? reject(verified.left.message) : vouched(verified.right.claims, verified.right.use)
    }
    // A tenant credential vouches for the tenant only: the rest is checked like any input.
    const versionParam = param("agent_version_id", LIMITS.sid)
    if (versionParam !== null && !UUID.test(versionParam)) dropped.push("agent_version_id")
    return withWarning({
      tenantId: preAuth.tenantId,
      streamSid,
      callSid: callSid ?? null,
      direction: param("direction", LIMITS.sid) === "outbound" ? "outbound" : "inbound",
      from: param("from", LIMITS.phone),
      to: param("to", LIMITS.phone),
      agentVersionId: versionParam !== null && UUID.test(versionParam) ? versionParam : null,
      greeting: param("greeting", LIMITS.greeting),
      agentName: param("agent_name", LIMITS.name),
      traceparent: param("traceparent", LIMITS.sid),
      translationRoom: param("translation_room", LIMITS.sid)
    }, dropped)
  })
