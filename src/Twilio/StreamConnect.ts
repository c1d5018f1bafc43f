import { Effect, Option } from "effect"
import type { VersionResolution } from "../Agents/VersionResolution.js"
import type { StreamClaims, StreamTokens } from "../Auth/StreamTokens.js"
import type { CallLogWrites, CallSeen } from "../CallLogs/Writes.js"
import type { InboundGate } from "../Limits/Inbound.js"
import { hasWebhookUrl } from "../Outbox/Endpoints.js"
import type { TenantCache } from "../TenantCache/TenantCache.js"
import type { TranslationRooms } from "../Translation/Rooms.js"
import { traceparentOf } from "../Observability/TraceContext.js"
import type { RouteChoice } from "./TenantResolution.js"
import { connectStream } from "./Twiml.js"
import { type CallKind, seenOf, type TenantRef, type VoiceWebhook } from "./VoiceWebhook.js"
import { knownOr, type WebhookRun } from "./WebhookRun.js"

export interface StreamConnectServices {
  readonly streamUrl: string
  readonly versions: VersionResolution
  readonly tokens: StreamTokens
  readonly callLogs: CallLogWrites
  readonly gate: InboundGate
  readonly tenants: TenantCache
  readonly translationRooms: TranslationRooms
}

/** The call, once its tenant is known and it is admitted: what the TwiML carries. */
interface Connecting {
  readonly tenant: TenantRef
  readonly hook: VoiceWebhook
  readonly route: RouteChoice | null
  readonly seen: CallSeen
}

/**
 * A resolved call's answer: pick the agent version, admit it (inbound) and record its sighting,
 * mint its stream token and answer with the TwiML that connects it to `/media-stream`. Written
 * once, as plain code over the caches (agent versions, tenants, the token secret); each miss,
 * and every step when spans are exported, is the service's Effect in its place.
 */
export const makeStreamConnect = (services: StreamConnectServices) => {
  const { callLogs, gate, tenants, tokens, translationRooms, versions } = services

  /** `callLogs.sightingAnnounced` read from the tenant cache when it holds the tenant. */
  const announcedNow = (tenantId: string, now: number) => {
    const cached = tenants.recall(tenantId, now)
    return cached === undefined ? undefined : Option.exists(cached, hasWebhookUrl)
  }

  const twimlOf = (run: WebhookRun, call: Connecting, url: string, token: string) => {
    const { hook, route, seen } = call
    return connectStream(url, [
      ["stream_token", token],
      ["tenant_id", seen.tenantId],
      ["agent_version_id", seen.agentVersionId],
      ["direction", seen.direction],
      ["caller", seen.direction === "inbound" ? seen.from : seen.to],
      ["call_sid", seen.callSid],
      ["greeting", hook.query.greeting ?? route?.greeting ?? null],
      ["agent_name", hook.query.agent_name ?? null],
      ["translation_room", hook.query.translation_room ?? null],
      ["language", hook.query.language ?? null],
      ["peer_language", hook.query.peer_language ?? null],
      // The media stream's span links back to this one (Observability/TraceContext.ts).
      ["traceparent", Option.match(run.span, { onNone: () => null, onSome: traceparentOf })]
    ])
  }

  /** The stream token and, for a translation room's leg, the replica its room streams to. */
  const answered = (run: WebhookRun, call: Connecting) => {
    const { seen } = call
    const claims: StreamClaims = {
      tenantId: seen.tenantId,
      callSid: seen.callSid,
      agentVersionId: seen.agentVersionId,
      direction: seen.direction,
      from: seen.from,
      to: seen.to
    }
    const secret = run.traced ? undefined : tokens.secretNow()
    const minted = secret === undefined ? undefined : tokens.mintWith(secret, claims, run.now())
    return knownOr(minted, () => tokens.mint(claims), (token) => {
      // Both legs of a translation room stream to one replica (docs/translation-calls.md).
      const room = call.hook.query.translation_room
      return room === undefined
        ? Effect.succeed(twimlOf(run, call, services.streamUrl, token))
        : Effect.map(translationRooms.streamUrlFor(seen.tenantId, room), (url) => twimlOf(run, call, url, token))
    })
  }

  /** Outbound calls were admitted when dialled; an inbound one is admitted here (docs/limits.md). */
  const admitted = (run: WebhookRun, call: Connecting) => {
    const { seen, tenant } = call
    if (seen.direction === "outbound") return Effect.flatMap(callLogs.callSeen(seen), () => answered(run, call))
    // Unless the sighting enqueues a `voice.call.started` event (its own transaction), the
    // admission's statement records it: the webhook's one round trip.
    return knownOr(
      announcedNow(tenant.tenantId, run.now()),
      () => callLogs.sightingAnnounced(tenant.tenantId),
      (announced) =>
        Effect.flatMap(gate.check(tenant, seen, !announced), (refused) =>
          Option.isSome(refused)
            ? Effect.succeed(refused.value)
            : announced
            ? Effect.flatMap(callLogs.callSeen(seen), () => answered(run, call))
            : answered(run, call))
    )
  }

  return (run: WebhookRun, tenant: TenantRef, hook: VoiceWebhook, kind: CallKind, callSid: string, route: RouteChoice | null) => {
    const choice = {
      tenantId: tenant.tenantId,
      callSid,
      agentId: hook.query.agent_id ?? route?.agentId ?? null,
      pinnedVersionId: hook.query.agent_version_id ?? route?.pinnedVersionId ?? null
    }
    // Read through the per-replica agent cache (no SQL once warm): the call log needs it.
    return knownOr(run.traced ? undefined : versions.cached(choice), () => versions.resolve(choice), (version) => {
      const agentVersionId = Option.isSome(version) ? version.value.versionId : null
      const seen = seenOf(tenant, hook, kind, callSid, agentVersionId, run.now())
      return admitted(run, { tenant, hook, route, seen })
    })
  }
}
