import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { DateTime, Effect } from "effect"
import { Api } from "../Api.js"
import { FunctionRegistry } from "../Tools/FunctionRegistry.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"
import { AudioProviders } from "../Voices/AudioProviders.js"
import { HealthResponse, NotReady, RootResponse, RuntimeStale } from "./Api.js"
import { Readiness } from "./Readiness.js"
import { ServiceInfo } from "./ServiceInfo.js"
import { jsonEncoder } from "../Http/RawJson.js"
import { STALE_AFTER_MS, Watchdog } from "./Watchdog.js"

const encodeRoot = jsonEncoder(RootResponse)

/** `GET /status` for an authenticated tenant; also served by the hot-read route (Http/HotReads.ts). */
export const tenantStatus = (info: ServiceInfo, tenant: CurrentTenant["Type"]) =>
  Effect.flatMap(DateTime.now, (now) =>
    encodeRoot(new RootResponse({
      message: "StateSet Voice (Twilio Media Streams <-> OpenAI Realtime) is running",
      tenant: tenant.tenantId,
      org_id: tenant.orgId,
      timestamp: DateTime.formatIso(now),
      version: info.version
    })))

export const HealthHttp = HttpApiBuilder.group(Api, "health", (handlers) =>
  Effect.gen(function*() {
    const watchdog = yield* Watchdog
    const readiness = yield* Readiness
    const info = yield* ServiceInfo
    const liveCalls = yield* LiveCalls
    const registry = yield* FunctionRegistry
    const audioProviders = yield* AudioProviders

    return handlers
      .handle("liveness", () =>
        Effect.gen(function*() {
          const age = yield* watchdog.heartbeatAgeMs
          const alive = age <= STALE_AFTER_MS
          const body = { ok: alive, status: alive ? "alive" as const : "stale" as const, heartbeat_age_ms: age, stale_after_ms: STALE_AFTER_MS }
          return alive ? body : yield* new RuntimeStale({ body })
        }))
      .handle("readiness", () =>
        Effect.flatMap(readiness.check, (body) => body.ready ? Effect.succeed(body) : Effect.fail(new NotReady({ body }))))
      .handle("health", () =>
        Effect.gen(function*() {
          const tenant = yield* CurrentTenant
          const audio = yield* audioProviders.state(tenant.tenantId, tenant.config)
          return new HealthResponse({
            ok: true,
            tenant: tenant.tenantId,
            org_id: tenant.orgId,
            tools: (yield* registry.definitions(tenant.config)).length,
            activeSessions: yield* liveCalls.countForTenant(tenant.tenantId),
            uptime: yield* info.uptimeSeconds,
            configuredAudioOutputProvider: audio.configured,
            effectiveAudioOutputProvider: audio.effective,
            audioProviderFallback: audio.fallbackReason !== null,
            elevenlabsConfigured: audio.elevenlabsConfigured,
            elevenlabsReady: audio.elevenlabsReady
          })
        }))
      .handle("status", () => Effect.flatMap(CurrentTenant, (tenant) => tenantStatus(info, tenant)))
  }))
