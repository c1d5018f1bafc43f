import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../../Api.js"
import { asAdminErrors } from "../../Http/ErrorMapping.js"
import {
  AdminTwilioWebhookCacheClearResponse,
  AdminTwilioWebhookDiagnosticsResponse,
  AdminTwilioWebhookHintCacheDiagnostics,
  AdminTwilioWebhookResetCountersResponse,
  AdminTwilioWebhookResolutionDiagnostics
} from "./Api.js"
import { HintCache } from "../HintCache.js"
import { ResolutionCounters } from "../ResolutionCounters.js"

export const TwilioWebhookDiagnosticsHttp = HttpApiBuilder.group(Api, "twilioWebhookDiagnostics", (handlers) =>
  Effect.gen(function*() {
    const hints = yield* HintCache
    const counters = yield* ResolutionCounters

    const hintCache = Effect.map(hints.stats, (stats) =>
      new AdminTwilioWebhookHintCacheDiagnostics({
        entries: stats.entries,
        max_entries: stats.maxEntries,
        ttl_secs: stats.ttlSecs
      }))
    const resolution = Effect.map(counters.snapshot, (snapshot) => new AdminTwilioWebhookResolutionDiagnostics(snapshot))

    return handlers
      .handle("get", () =>
        Effect.all({ hint_cache: hintCache, resolution }).pipe(
          Effect.map((parts) => new AdminTwilioWebhookDiagnosticsResponse({ ok: true, ...parts }))
        ))
      .handle("clearCache", () =>
        Effect.gen(function*() {
          const removed = yield* hints.clearEverywhere
          return new AdminTwilioWebhookCacheClearResponse({ ok: true, removed_entries: removed, hint_cache: yield* hintCache })
        }).pipe(asAdminErrors))
      .handle("resetCounters", ({ urlParams }) =>
        Effect.gen(function*() {
          const clear = urlParams.clear_hint_cache === true
          const removed = clear ? yield* hints.clearEverywhere : 0
          yield* counters.reset
          return new AdminTwilioWebhookResetCountersResponse({
            ok: true,
            cleared_hint_cache: clear,
            removed_hint_cache_entries: removed,
            hint_cache: yield* hintCache,
            resolution: yield* resolution
          })
        }).pipe(asAdminErrors))
  }))
