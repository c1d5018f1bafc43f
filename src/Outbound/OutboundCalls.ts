import { Clock, Effect, Option, Schema } from "effect"
import { Agents } from "../Agents/Agents.js"
import { VersionResolution } from "../Agents/VersionResolution.js"
import { AppConfig } from "../Config.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { CallLogWrites } from "../CallLogs/Writes.js"
import { Limits } from "../Limits/Limits.js"
import { defaultFromNumber, isE164, twilioCredentials } from "../Twilio/Account.js"
import { TwilioClient, type TwilioCredentials } from "../Twilio/Client.js"
import type { TwilioFailure } from "../Twilio/Errors.js"
import type { TwilioCall } from "../Twilio/Resources.js"
import { normalizeLanguage, SUPPORTED_LANGUAGES } from "../Translation/Languages.js"
import { TranslationRooms } from "../Translation/Rooms.js"
import type { CreateCallOptions } from "../Twilio/Options.js"
import { machineAndRecordingOptions } from "./MachineAnswers.js"

/**
 * Why an outbound call was not placed: bad input (400), a cost/abuse limit (403 destination,
 * 429 capacity, velocity or budget; docs/limits.md), Twilio failed (502) or is not there (503).
 */
export class OutboundCallFailed extends Schema.TaggedError<OutboundCallFailed>()("OutboundCallFailed", {
  status: Schema.Literal(400, 403, 429, 502, 503),
  message: Schema.String,
  placed: Schema.Array(Schema.String),
  /** Twilio did not answer in time: the call may have been placed all the same. */
  outcomeUnknown: Schema.optional(Schema.Boolean)
}) {}

export interface OutboundRequest {
  readonly to: string
  readonly from: string | null | undefined
  readonly agentKey: string | null | undefined
  readonly agentVersionId: string | null | undefined
  readonly agentName: string | null | undefined
  readonly greeting: string | null | undefined
}

type AgentQuery = { readonly agent_version_id?: string; readonly agent_id?: string }

export interface TranslationRequest {
  readonly a: string
  readonly b: string
  readonly from: string | null | undefined
  readonly languageA?: string
  readonly languageB?: string
}

interface Tenant {
  readonly tenantId: string
  readonly config: TenantConfig
}

const failed = (status: 400 | 403 | 429 | 502 | 503, message: string, placed: ReadonlyArray<string> = []) =>
  new OutboundCallFailed({ status, message, placed: [...placed] })

/** Twilio refusing the numbers is the caller's mistake; anything else is Twilio's. */
const fromTwilio = (error: TwilioFailure, upstream: 502 | 503, placed: ReadonlyArray<string> = []) =>
  failed(error._tag === "TwilioRejected" && error.httpStatus === 400 ? 400 : upstream, error.message, placed)

/**
 * Places outbound calls through Twilio's REST API. Twilio then asks `/outbound-call` for
 * TwiML (the URL carries the tenant and the chosen agent) and reports progress to
 * `/call-status`; both URLs are signed by Twilio like any webhook.
 */
export class OutboundCalls extends Effect.Service<OutboundCalls>()("OutboundCalls", {
  effect: Effect.gen(function*() {
    const platform = yield* AppConfig
    const twilio = yield* TwilioClient
    const callLogs = yield* CallLogWrites
    const versions = yield* VersionResolution
    const agents = yield* Agents
    const limits = yield* Limits
    const rooms = yield* TranslationRooms

    /** Admission before any dial (every outbound path comes through here, auto-dispatch included). */
    const admitted = (tenant: Tenant, destinations: ReadonlyArray<string>, from: string) =>
      limits.admit(tenant, { kind: "outbound_call", destinations, from }).pipe(
        Effect.mapError((error) => error._tag === "LimitRefused" ? failed(error.status, error.message) : unavailable())
      )

    /** A placed call keeps its slot until the ledger shows it; a failed dial frees it. */
    const settle = (tenant: Tenant, admission: string | undefined, callSid: string | null) =>
      (admission === undefined
        ? Effect.void
        : callSid === null
        ? limits.release(tenant.tenantId, admission)
        : limits.attach(tenant.tenantId, admission, callSid)).pipe(
          Effect.catchAll((error) => Effect.logWarning("could not settle a call admission", error.message))
        )

    const webhookUrl = (path: string, query: Record<string, string | null | undefined>) => {
      const params = new URLSearchParams()
      for (const [key, value] of Object.entries(query)) if (value !== null && value !== undefined) params.set(key, value)
      return `${platform.publicBaseUrl}${path}?${params.toString()}`
    }

    const number = (label: string, value: string) =>
      isE164(value.trim())
        ? Effect.succeed(value.trim())
        : Effect.fail(failed(400, `${label} must be an E.164 phone number such as +15555551234`))

    const setup = (tenant: Tenant, from: string | null | undefined) =>
      Effect.gen(function*() {
        const caller = from ?? Option.getOrUndefined(defaultFromNumber(tenant.config, platform))
        if (caller === undefined) return yield* failed(400, "from is required: no default Twilio number is configured")
        const credentials = twilioCredentials(tenant.config, platform)
        if (Option.isNone(credentials)) return yield* failed(503, "Twilio not configured")
        return { from: yield* number("from", caller), credentials: credentials.value }
      })

    const unavailable = () => failed(503, "Database unavailable; try again shortly")

    /** The agent asked for, checked now so a typo is a 400 rather than a silent default. */
    const agentChoice = (tenantId: string, request: OutboundRequest) =>
      Effect.gen(function*() {
        if (request.agentVersionId !== null && request.agentVersionId !== undefined) {
          const version = yield* versions.byId(tenantId, request.agentVersionId)
          if (Option.isNone(version)) return yield* failed(400, `agent_version_id ${request.agentVersionId} not found`)
          return { agent_version_id: version.value.versionId }
        }
        if (request.agentKey !== null && request.agentKey !== undefined) {
          const all = yield* agents.list(tenantId).pipe(Effect.catchTag("TenantNotFound", () => Effect.succeed([])))
          const agent = all.find((candidate) => candidate.agent_key === request.agentKey)
          if (agent === undefined) return yield* failed(400, `agent_key ${request.agentKey} not found`)
          return { agent_id: agent.id }
        }
        return {}
      }).pipe(
        Effect.map((query): AgentQuery => query),
        Effect.catchTag("DatabaseUnavailable", () => Effect.fail(unavailable()))
      )

    const place = (
      tenant: Tenant,
      credentials: TwilioCredentials,
      to: string,
      from: string,
      query: Record<string, string | null | undefined>,
      extra: Partial<CreateCallOptions> = {}
    ) =>
      twilio.createCall(credentials, {
        ...extra,
        to,
        from,
        url: webhookUrl("/api/v1/outbound-call", { tenant: tenant.tenantId, ...query }),
        method: "POST",
        statusCallback: webhookUrl("/api/v1/call-status", { tenant: tenant.tenantId }),
        statusCallbackMethod: "POST",
        statusCallbackEvent: ["initiated", "ringing", "answered", "completed"]
      })

    /** The call log row exists from the start; losing it must not fail a call already placed. */
    const logPlaced = (tenant: Tenant, call: TwilioCall, to: string, from: string, agentVersionId: string | null) =>
      Effect.gen(function*() {
        yield* callLogs.callSeen({
          tenantId: tenant.tenantId,
          callSid: call.sid,
          direction: "outbound",
          from,
          to,
          agentVersionId,
          twilioStatus: call.status,
          at: new Date(yield* Clock.currentTimeMillis)
        })
      }).pipe(Effect.catchAll((error) => Effect.logWarning("could not log the placed call", error.message)))

    const makeCall = Effect.fn("OutboundCalls.makeCall")(function*(tenant: Tenant, request: OutboundRequest) {
      const to = yield* number("to", request.to)
      const { credentials, from } = yield* setup(tenant, request.from)
      const agent = yield* agentChoice(tenant.tenantId, request)
      const [admission] = yield* admitted(tenant, [to], from)
      const call = yield* place(tenant, credentials, to, from, {
        ...agent,
        greeting: request.greeting,
        agent_name: request.agentName
      }, machineAndRecordingOptions(tenant.config, (path) => webhookUrl(path, { tenant: tenant.tenantId }))).pipe(
        Effect.tapBoth({
          // Only a refusal proves no call exists; after a timeout Twilio may be dialling, so the slot stays (until its TTL).
          onFailure: (error) => error._tag === "TwilioRejected" ? settle(tenant, admission, null) : Effect.void,
          onSuccess: (c) => settle(tenant, admission, c.sid)
        }),
        Effect.mapError((error) =>
          error._tag === "TwilioUnavailable" && error.outcomeUnknown === true
            ? new OutboundCallFailed({ status: 503, message: error.message, placed: [], outcomeUnknown: true })
            : fromTwilio(error, 503)
        )
      )
      yield* logPlaced(tenant, call, to, from, agent.agent_version_id ?? null)
      return { callSid: call.sid, status: call.status, to, from }
    })

    /** A party's language: required, and one the interpreter speaks. */
    const language = (label: string, value: string | undefined) => {
      const supported = `one of ${SUPPORTED_LANGUAGES.join(", ")}`
      if (value === undefined || value.trim() === "") {
        return Effect.fail(failed(400, `${label} is required: the language that participant speaks (${supported})`))
      }
      const normalized = normalizeLanguage(value)
      return normalized === undefined
        ? Effect.fail(failed(400, `${label} ${JSON.stringify(value.slice(0, 40))} is not a supported language; use ${supported}`))
        : Effect.succeed(normalized)
    }

    /**
     * Two legs into one translation room; if the second cannot be placed the first is
     * cancelled. The room (languages, legs) is stored first: a leg's stream may start
     * before this request has answered.
     */
    const startTranslation = Effect.fn("OutboundCalls.startTranslation")(
      function*(tenant: Tenant, roomId: string, request: TranslationRequest) {
        const a = yield* number("participant_a", request.a)
        const b = yield* number("participant_b", request.b)
        if (a === b) return yield* failed(400, "participant_a and participant_b must be different phone numbers")
        const languageA = yield* language("language_a", request.languageA)
        const languageB = yield* language("language_b", request.languageB)
        if (languageA === languageB) return yield* failed(400, "language_a and language_b must be different languages")
        const { credentials, from } = yield* setup(tenant, request.from)
        if (from === a || from === b) return yield* failed(400, "from must differ from both participants' numbers")
        const admissions = yield* admitted(tenant, [a, b], from)
        yield* rooms.create({
          roomId,
          tenantId: tenant.tenantId,
          languageA,
          languageB,
          participantA: a,
          participantB: b,
          at: new Date(yield* Clock.currentTimeMillis)
        }).pipe(
          Effect.tapError(() => Effect.forEach(admissions, (id) => settle(tenant, id, null))),
          Effect.mapError(() => unavailable())
        )
        const stored = (side: "a" | "b") => (call: TwilioCall) =>
          rooms.legPlaced(tenant.tenantId, roomId, side, call.sid).pipe(
            Effect.catchAll((error) => Effect.logWarning("translation leg not stored on its room", error.message))
          )
        const leg = (to: string, language: string, peer: string, placed: ReadonlyArray<string>) =>
          place(tenant, credentials, to, from, { translation_room: roomId, language, peer_language: peer }).pipe(
            Effect.tapBoth({
              // This leg's slot is freed only if Twilio refused it; the legs never tried are freed.
              onFailure: (error) =>
                Effect.forEach(
                  admissions.slice(placed.length + (error._tag === "TwilioRejected" ? 0 : 1)),
                  (id) => settle(tenant, id, null)
                ),
              onSuccess: (call) => settle(tenant, admissions[placed.length], call.sid)
            }),
            Effect.mapError((error) => fromTwilio(error, 502, placed)),
            Effect.tap((call) => logPlaced(tenant, call, to, from, null))
          )
        const first = yield* leg(a, languageA, languageB, []).pipe(Effect.tap(stored("a")))
        const second = yield* leg(b, languageB, languageA, [first.sid]).pipe(
          Effect.tap(stored("b")),
          Effect.tapError(() =>
            twilio.updateCall(credentials, first.sid, { status: "canceled" }).pipe(
              Effect.catchAll((error) => Effect.logWarning("could not cancel the first translation leg", error.message))
            )
          )
        )
        return { a: first.sid, b: second.sid }
      }
    )

    return { makeCall, startTranslation } as const
  }),
  dependencies: [TwilioClient.Default, CallLogWrites.Default]
}) {}
