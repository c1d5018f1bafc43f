import { Effect } from "effect"
import { StreamTokens, type TokenUse } from "../Auth/StreamTokens.js"
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

/**
 * The call's identity from the `start` event and the credential: a stream token (from the
 * upgrade's query, or from `customParameters.stream_token`) vouches for the tenant, the
 * call and the agent version; a tenant bearer credential (internal clients) vouches for
 * the tenant only, the rest comes from the custom parameters.
 */
export const identify = (start: TwilioStart, preAuth: PreAuth) =>
  Effect.gen(function*() {
    const { callSid, customParameters = {}, streamSid } = start.start
    // The SIDs key the call's record: a stream we could not record is refused up front.
    if (!storable(streamSid, LIMITS.sid) || streamSid === "" || !storable(callSid, LIMITS.sid)) {
      return yield* reject("the start event's streamSid or callSid is not a valid SID")
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
    let auth = preAuth
    let tokenUse: TokenUse | undefined
    if (auth._tag === "None") {
      const token = param("stream_token", 4_096)
      if (token === null) return yield* reject("no stream token in the start event")
      const { claims, use } = yield* (yield* StreamTokens).verify(token).pipe(
        Effect.catchTag("InvalidStreamToken", (error) => reject(error.message)),
        Effect.catchTag("DatabaseUnavailable", () => reject(TOKEN_UNCHECKED))
      )
      auth = { _tag: "StreamToken", claims }
      tokenUse = use
    }
    if (auth._tag === "StreamToken") {
      const { claims } = auth
      // A monitor leg's token is minted before Twilio names the leg's call: it vouches for the call listened to.
      if (claims.monitorOf !== undefined) {
        yield* warnDropped(dropped)
        return {
          ...claims,
          streamSid,
          callSid: callSid ?? null,
          greeting: null,
          translationRoom: null,
          monitorOf: claims.monitorOf,
          ...(tokenUse === undefined ? {} : { tokenUse })
        } satisfies CallIdentity
      }
      if (callSid !== undefined && callSid !== claims.callSid) {
        return yield* reject("the stream token was issued for another call")
      }
      const greeting = param("greeting", LIMITS.greeting)
      const traceparent = param("traceparent", LIMITS.sid)
      const translationRoom = param("translation_room", LIMITS.sid)
      const transferResult = param("transfer_result", LIMITS.sid)
      const agentName = param("agent_name", LIMITS.name)
      yield* warnDropped(dropped)
      return {
        ...claims,
        streamSid,
        callSid: claims.callSid,
        greeting,
        agentName,
        traceparent,
        translationRoom,
        transferResult,
        ...(tokenUse === undefined ? {} : { tokenUse })
      } satisfies CallIdentity
    }
    // A tenant credential vouches for the tenant only: the rest is checked like any input.
    const versionParam = param("agent_version_id", LIMITS.sid)
    if (versionParam !== null && !UUID.test(versionParam)) dropped.push("agent_version_id")
    const identity = {
      tenantId: auth.tenantId,
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
    } satisfies CallIdentity
    yield* warnDropped(dropped)
    return identity
  })
