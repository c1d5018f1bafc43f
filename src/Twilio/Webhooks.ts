import { Clock, Effect, Metric, Option, type Tracer } from "effect"
import { label, webhookToTwimlWith } from "../Observability/Metrics.js"
import { traceparentOf } from "../Observability/TraceContext.js"
import { VersionResolution } from "../Agents/VersionResolution.js"
import { StreamTokens } from "../Auth/StreamTokens.js"
import { AppConfig } from "../Config.js"
import type { CachedTenant } from "../TenantCache/TenantCache.js"
import { type CallSeen, CallLogWrites } from "../CallLogs/Writes.js"
import { CallRecords } from "../CallLogs/CallRecords.js"
import type { InvalidInput } from "../Database/Errors.js"
import { choiceOf, type RouteChoice, TenantResolution, type WebhookCall } from "./TenantResolution.js"
import { connectStream, mediaStreamUrl, sayAndHangUp, UNAVAILABLE_MESSAGE, UNKNOWN_NUMBER_MESSAGE } from "./Twiml.js"
import { WebhookBadRequest, WebhookUnauthorized, WebhookUnavailable } from "./Api.js"
import { InboundGate } from "../Limits/Inbound.js"
import { hasWebhookUrl } from "../Outbox/Endpoints.js"
import { SetupLoad } from "../Limits/SetupLoad.js"
import { TranslationRooms } from "../Translation/Rooms.js"
import { annotateCurrentSpan, currentPropagatedSpanOption, fnSpanned } from "../Observability/Spans.js"

/** A voice webhook request: what Twilio signed and the query our own URLs carry. */
export interface VoiceWebhook {
  /** PUBLIC_BASE_URL + the requested path and query. */
  readonly url: string
  readonly params: Readonly<Record<string, string | undefined>>
  readonly signature: string | undefined
  readonly query: {
    readonly tenant?: string | undefined
    readonly agent_version_id?: string | undefined
    readonly agent_id?: string | undefined
    readonly greeting?: string | undefined
    readonly agent_name?: string | undefined
    readonly translation_room?: string | undefined
    readonly language?: string | undefined
    readonly peer_language?: string | undefined
  }
}

/**
 * The webhook as Twilio signed it: PUBLIC_BASE_URL + the path it requested (the legacy alias
 * included, hence the original URL) + the query, and every form parameter. Built by the
 * HttpApi handlers (Twilio/Http.ts) and by the incoming-call fast path (Twilio/HotWebhook.ts).
 */
export const signedWebhook = (
  publicBaseUrl: string,
  request: { readonly originalUrl: string; readonly headers: Readonly<Record<string, string | undefined>> },
  params: VoiceWebhook["params"],
  signed: boolean,
  query: VoiceWebhook["query"]
): VoiceWebhook => ({
  url: `${publicBaseUrl}${request.originalUrl}`,
  params,
  signature: signed ? request.headers["x-twilio-signature"] : undefined,
  query
})

export type CallKind = "inbound" | "outbound"

type TenantRef = Pick<CachedTenant, "tenantId" | "config">

const ANSWERED_BY = ["human", "machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax", "unknown"]

const text = (params: VoiceWebhook["params"], name: string) => {
  const value = params[name]
  return value === undefined || value.trim() === "" ? undefined : value
}

const definedParams = (params: VoiceWebhook["params"]): Record<string, string> =>
  Object.fromEntries(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined))

/**
 * Twilio's voice webhooks: find the tenant (signature-checked), pick the agent version,
 * open the call log, and answer with TwiML that connects the call to `/media-stream`
 * with a fresh stream token. A caller always hears something: an unknown number or an
 * outage gets a short apology before the hang-up.
 */
export class VoiceWebhooks extends Effect.Service<VoiceWebhooks>()("VoiceWebhooks", {
  effect: Effect.gen(function*() {
    const config = yield* AppConfig
    const resolution = yield* TenantResolution
    const versions = yield* VersionResolution
    const tokens = yield* StreamTokens
    const callLogs = yield* CallLogWrites
    const callRecords = yield* CallRecords
    const gate = yield* InboundGate
    const setupLoad = yield* SetupLoad
    const translationRooms = yield* TranslationRooms
    const streamUrl = mediaStreamUrl(config.publicBaseUrl)

    const required = (params: VoiceWebhook["params"], name: string) => {
      const value = text(params, name)
      return value === undefined
        ? Effect.fail(new WebhookBadRequest({ message: `Missing required parameter ${name}` }))
        : Effect.succeed(value)
    }

    /** Our number on the call: the called number inbound, the caller id outbound. */
    const webhookCall = (hook: VoiceWebhook, kind: CallKind, sip: boolean): WebhookCall => ({
      url: hook.url,
      params: definedParams(hook.params),
      signature: hook.signature,
      explicitTenant: hook.query.tenant,
      accountSid: text(hook.params, "AccountSid"),
      number: text(hook.params, kind === "inbound" ? "To" : "From"),
      direction: sip ? (kind === "inbound" ? "sip_inbound" : "sip_outbound") : kind
    })

    /** The call as the webhook first sees it (its call log's first row), at `now`. */
    const seenOf = (
      tenant: TenantRef,
      hook: VoiceWebhook,
      kind: CallKind,
      callSid: string,
      agentVersionId: string | null,
      now: number
    ): CallSeen => ({
      tenantId: tenant.tenantId,
      callSid,
      direction: kind,
      from: text(hook.params, "From") ?? null,
      to: text(hook.params, "To") ?? null,
      agentVersionId,
      twilioStatus: text(hook.params, "CallStatus") ?? null,
      at: new Date(now)
    })

    const connect = (tenant: TenantRef, hook: VoiceWebhook, kind: CallKind, callSid: string, route: RouteChoice | null) =>
      Effect.gen(function*() {
        // Read through the per-replica agent cache (no SQL once warm): the call log needs it.
        const version = yield* versions.resolve({
          tenantId: tenant.tenantId,
          callSid,
          agentId: hook.query.agent_id ?? route?.agentId ?? null,
          pinnedVersionId: hook.query.agent_version_id ?? route?.pinnedVersionId ?? null
        })
        const agentVersionId = Option.match(version, { onNone: () => null, onSome: (v) => v.versionId })
        const seen = seenOf(tenant, hook, kind, callSid, agentVersionId, yield* Clock.currentTimeMillis)
        const { from, to } = seen
        // Outbound calls were admitted when dialled; an inbound one is admitted here (docs/limits.md).
        // Unless the sighting enqueues a `voice.call.started` event (its own transaction), the
        // admission's statement records it: the webhook's one round trip.
        const inline = kind === "inbound" && !(yield* callLogs.sightingAnnounced(tenant.tenantId))
        const refused = kind === "inbound" ? yield* gate.check(tenant, callSid, from, inline ? seen : undefined) : Option.none()
        if (Option.isSome(refused)) return refused.value
        if (!inline) yield* callLogs.callSeen(seen)
        const token = yield* tokens.mint({ tenantId: tenant.tenantId, callSid, agentVersionId, direction: kind, from, to })
        // None when tracing is off (no exporter): no traceparent rather than a no-op span's ids.
        const span = yield* currentPropagatedSpanOption
        // Both legs of a translation room stream to one replica (docs/translation-calls.md).
        const room = hook.query.translation_room
        const url = room === undefined ? streamUrl : yield* translationRooms.streamUrlFor(tenant.tenantId, room)
        return streamTwiml(url, token, tenant, hook, kind, callSid, route, agentVersionId, span)
      })

    /** The TwiML that connects the call to its media stream. */
    const streamTwiml = (
      url: string,
      token: string,
      tenant: TenantRef,
      hook: VoiceWebhook,
      kind: CallKind,
      callSid: string,
      route: RouteChoice | null,
      agentVersionId: string | null,
      span: Option.Option<Tracer.Span>
    ) =>
      connectStream(url, [
        ["stream_token", token],
        ["tenant_id", tenant.tenantId],
        ["agent_version_id", agentVersionId],
        ["direction", kind],
        ["caller", kind === "inbound" ? text(hook.params, "From") ?? null : text(hook.params, "To") ?? null],
        ["call_sid", callSid],
        ["greeting", hook.query.greeting ?? route?.greeting ?? null],
        ["agent_name", hook.query.agent_name ?? null],
        ["translation_room", hook.query.translation_room ?? null],
        ["language", hook.query.language ?? null],
        ["peer_language", hook.query.peer_language ?? null],
        // The media stream's span links back to this one (Observability/TraceContext.ts).
        ["traceparent", Option.match(span, { onNone: () => null, onSome: traceparentOf })]
      ])

    /**
     * `connect` for an inbound call whose agent version is cached and whose stream-token secret
     * is known, as plain code around the admission's statement (and the sighting's, when it
     * enqueues an event). Undefined, with nothing done, when `connect` must run.
     */
    const connectWarm = (
      tenant: TenantRef,
      hook: VoiceWebhook,
      callSid: string,
      route: RouteChoice | null,
      now: () => number,
      span: Option.Option<Tracer.Span>
    ) => {
      const secret = tokens.secretNow()
      if (secret === undefined) return undefined
      const version = versions.cached({
        tenantId: tenant.tenantId,
        callSid,
        agentId: hook.query.agent_id ?? route?.agentId ?? null,
        pinnedVersionId: hook.query.agent_version_id ?? route?.pinnedVersionId ?? null
      })
      if (version === undefined) return undefined
      const agentVersionId = Option.isSome(version) ? version.value.versionId : null
      const seen = seenOf(tenant, hook, "inbound", callSid, agentVersionId, now())
      const { from, to } = seen
      // As `connect`: the admission's statement records the sighting unless it enqueues an event
      // (`sightingAnnounced`, read here from the tenant just resolved through the same cache).
      const inline = !hasWebhookUrl(tenant)
      const admitted = (refused: Option.Option<string>) => {
        if (Option.isSome(refused)) return Effect.succeed(refused.value)
        const twiml = () => {
          const token = tokens.mintWith(secret, { tenantId: tenant.tenantId, callSid, agentVersionId, direction: "inbound", from, to }, now())
          return streamTwiml(streamUrl, token, tenant, hook, "inbound", callSid, route, agentVersionId, span)
        }
        return inline ? Effect.sync(twiml) : Effect.map(callLogs.callSeen(seen), twiml)
      }
      return Effect.flatMap(gate.check(tenant, callSid, from, inline ? seen : undefined), admitted)
    }

    /** A parameter PostgreSQL cannot store (text with NUL) did not come from Twilio. */
    const badRequest = (error: InvalidInput) => Effect.fail(new WebhookBadRequest({ message: error.message }))

    /** A database outage still answers the caller. */
    const apology = (callSid: string) => () =>
      Effect.logWarning("voice webhook answered with an apology: database unavailable").pipe(
        Effect.annotateLogs("call_sid", callSid),
        Effect.as(sayAndHangUp(UNAVAILABLE_MESSAGE))
      )

    /** Webhook in -> TwiML out, whatever the answer was (`direction` as in the call log). */
    const timed = <A, E, R>(effect: Effect.Effect<A, E, R>, kind: CallKind, sip: boolean) =>
      Effect.flatMap(Clock.currentTimeMillis, (started) =>
        Effect.ensuring(effect, Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Metric.update(
            webhookToTwimlWith([label("direction", sip ? `sip_${kind}` : kind)]),
            now - started
          ))))

    const answer = fnSpanned("VoiceWebhooks.answer")(function*(kind: CallKind, hook: VoiceWebhook) {
      const callSid = yield* required(hook.params, "CallSid")
      yield* annotateCurrentSpan("call.sid", callSid)
      return yield* Effect.gen(function*() {
        const resolved = yield* resolution.resolve(webhookCall(hook, kind, false))
        switch (resolved._tag) {
          case "BadSignature":
            return yield* new WebhookUnauthorized({ message: "Invalid Twilio signature" })
          case "Unknown":
            yield* Effect.logWarning("voice webhook for an unknown number").pipe(
              Effect.annotateLogs({ call_sid: callSid, to: text(hook.params, "To") ?? "", direction: kind })
            )
            return sayAndHangUp(UNKNOWN_NUMBER_MESSAGE)
          case "Resolved":
            // Our own outbound calls were admitted when dialled: only an inbound one is shed.
            return yield* kind === "inbound"
              ? setupLoad.admit(callSid, connect(resolved.tenant, hook, kind, callSid, resolved.route))
              : connect(resolved.tenant, hook, kind, callSid, resolved.route)
        }
      }).pipe(Effect.catchTags({ DatabaseUnavailable: apology(callSid), InvalidInput: badRequest }))
    }, (effect, kind) => timed(effect, kind, false))

    const inboundTwimlMs = webhookToTwimlWith([label("direction", "inbound")])

    /**
     * `answer("inbound", hook)` as plain code over the same caches when no span is exported (the
     * caller checks: `answer`'s spans would go nowhere) and the webhook resolves from the hint
     * cache: Effect only for the admission's statement and what follows it. `now` reads the
     * fiber's Clock; `span` is the request's (the TwiML's traceparent, as `answer`'s would be
     * under the same tracer). The same answers, counters, metric and log lines as `answer`.
     * Undefined, with nothing done or counted, when `answer` must run (a missing CallSid, a hint
     * miss or mismatch, a translation room); a cold agent-version cache or token secret takes
     * `connect` after the resolution.
     */
    const answerInboundWarm = (hook: VoiceWebhook, now: () => number, span: Option.Option<Tracer.Span>) => {
      const callSid = text(hook.params, "CallSid")
      if (callSid === undefined || hook.query.translation_room !== undefined) return undefined
      const started = now()
      const resolved = resolution.resolveFromHintNow(webhookCall(hook, "inbound", false), started)
      if (resolved === undefined) return undefined
      const setUp = connectWarm(resolved.tenant, hook, callSid, resolved.route, now, span) ??
        connect(resolved.tenant, hook, "inbound", callSid, resolved.route)
      return setupLoad.admit(callSid, setUp).pipe(
        Effect.catchTags({ DatabaseUnavailable: apology(callSid), InvalidInput: badRequest }),
        Effect.ensuring(Effect.sync(() => inboundTwimlMs.unsafeUpdate(now() - started, []))))
    }

    /** SIP trunks authenticate with the tenant's bearer: no resolution, the route only picks the agent. */
    const answerSip = fnSpanned("VoiceWebhooks.answerSip")(function*(kind: CallKind, tenant: TenantRef, hook: VoiceWebhook) {
      const callSid = yield* required(hook.params, "CallSid")
      yield* annotateCurrentSpan("call.sid", callSid)
      const call = webhookCall(hook, kind, true)
      return yield* Effect.gen(function*() {
        const route = call.number === undefined ? Option.none() : yield* resolution.route(call.number, call.direction)
        const own = Option.filter(route, (found) => found.tenantId === tenant.tenantId)
        return yield* connect(tenant, hook, kind, callSid, Option.getOrNull(Option.map(own, choiceOf)))
      }).pipe(Effect.catchTags({ DatabaseUnavailable: apology(callSid), InvalidInput: badRequest }))
    }, (effect, kind) => timed(effect, kind, true))

    /** A status callback: merged into the call log whatever order it arrives in. */
    const status = Effect.fn("VoiceWebhooks.status")(function*(hook: VoiceWebhook) {
      const callSid = yield* required(hook.params, "CallSid")
      const callStatus = yield* required(hook.params, "CallStatus")
      const kind: CallKind = text(hook.params, "Direction") === "inbound" ? "inbound" : "outbound"
      const unavailable = () => new WebhookUnavailable({ message: "Service unavailable; try again shortly" })
      const resolved = yield* resolution.resolve(webhookCall(hook, kind, false)).pipe(Effect.mapError(unavailable))
      if (resolved._tag === "BadSignature") return yield* new WebhookUnauthorized({ message: "Invalid Twilio signature" })
      if (resolved._tag === "Unknown") {
        yield* Effect.logWarning("status callback for an unknown number").pipe(Effect.annotateLogs("call_sid", callSid))
        return false
      }
      const duration = Number(text(hook.params, "CallDuration") ?? Number.NaN)
      const answeredBy = text(hook.params, "AnsweredBy")
      yield* callRecords.recordStatus({
        tenantId: resolved.tenant.tenantId,
        callSid,
        direction: kind,
        from: text(hook.params, "From") ?? null,
        to: text(hook.params, "To") ?? null,
        twilioStatus: callStatus.toLowerCase(),
        durationSeconds: Number.isInteger(duration) && duration >= 0 ? duration : null,
        answeredBy: answeredBy === undefined ? null : ANSWERED_BY.includes(answeredBy) ? answeredBy : "unknown",
        recordingUrl: text(hook.params, "RecordingUrl") ?? null,
        at: new Date(yield* Clock.currentTimeMillis)
      }).pipe(Effect.catchTags({ DatabaseUnavailable: () => Effect.fail(unavailable()), InvalidInput: badRequest }))
      return true
    })

    return { answer, answerInboundWarm, answerSip, status } as const
  }),
  dependencies: [CallLogWrites.Default, InboundGate.Default, SetupLoad.Default]
}) {}
