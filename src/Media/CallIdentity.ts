import { Effect } from "effect"
import { StreamTokens } from "../Auth/StreamTokens.js"
import { type PreAuth, StreamRejected } from "./Bootstrap.js"
import type { TwilioStart } from "./TwilioEvents.js"
import type { CallKey } from "../CallLogs/CallKey.js"

/** Who and what a media stream is for, once it has authenticated. */
export interface CallIdentity extends CallKey {
  /** A greeting chosen for this call (phone route or webhook query), passed in the TwiML. */
  readonly greeting: string | null
  /** The voice webhook's span (W3C `traceparent`, a TwiML parameter), to link the call's trace to it. */
  readonly traceparent?: string | null
}

const reject = (message: string) => Effect.fail(new StreamRejected({ message }))

/**
 * The call's identity from the `start` event and the credential: a stream token (from the
 * upgrade's query, or from `customParameters.stream_token`) vouches for the tenant, the
 * call and the agent version; a tenant bearer credential (internal clients) vouches for
 * the tenant only, the rest comes from the custom parameters.
 */
export const identify = (start: TwilioStart, preAuth: PreAuth) =>
  Effect.gen(function*() {
    const { callSid, customParameters = {}, streamSid } = start.start
    const param = (name: string) => {
      const value = customParameters[name]
      return value === undefined || value === "" ? null : value
    }
    let auth = preAuth
    if (auth._tag === "None") {
      const token = param("stream_token")
      if (token === null) return yield* reject("no stream token in the start event")
      const claims = yield* (yield* StreamTokens).redeem(token).pipe(
        Effect.catchTag("InvalidStreamToken", (error) => reject(error.message)),
        Effect.catchTag("DatabaseUnavailable", () => reject("the stream token could not be checked"))
      )
      auth = { _tag: "StreamToken", claims }
    }
    if (auth._tag === "StreamToken") {
      const { claims } = auth
      if (callSid !== undefined && callSid !== claims.callSid) {
        return yield* reject("the stream token was issued for another call")
      }
      return {
        ...claims,
        streamSid,
        callSid: claims.callSid,
        greeting: param("greeting"),
        traceparent: param("traceparent")
      } satisfies CallIdentity
    }
    return {
      tenantId: auth.tenantId,
      streamSid,
      callSid: callSid ?? null,
      direction: param("direction") === "outbound" ? "outbound" : "inbound",
      from: param("from"),
      to: param("to"),
      agentVersionId: param("agent_version_id"),
      greeting: param("greeting"),
      traceparent: param("traceparent")
    } satisfies CallIdentity
  })
