import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { asApiErrors } from "../Http/ErrorMapping.js"
import {
  VoiceOutcomeDetailResponse,
  VoiceOutcomesListResponse,
  VoiceOutcomeStatsResponse,
  VoiceOutcomeTimeseriesResponse
} from "./Api.js"
import { VoiceOutcomes } from "./VoiceOutcomes.js"

export const VoiceOutcomesHttp = HttpApiBuilder.group(Api, "voiceOutcomes", (handlers) =>
  Effect.gen(function*() {
    const outcomes = yield* VoiceOutcomes
    const detail = (tenant: string) => (outcome: VoiceOutcomeDetailResponse["outcome"]) =>
      new VoiceOutcomeDetailResponse({ ok: true, tenant, outcome })
    return handlers
      .handle("list", ({ urlParams }) =>
        Effect.gen(function*() {
          const { tenantId } = yield* CurrentTenant
          const { count, outcomes: page } = yield* outcomes.list({
            tenantId,
            resolution: urlParams.resolution ?? null,
            billingStatus: urlParams.billing_status ?? null,
            billableSku: urlParams.billable_sku ?? null,
            callType: urlParams.call_type ?? null,
            limit: urlParams.limit ?? 50,
            offset: urlParams.offset ?? 0
          })
          return new VoiceOutcomesListResponse({ ok: true, tenant: tenantId, count, outcomes: page })
        }).pipe(asApiErrors))
      .handle("stats", ({ urlParams }) =>
        Effect.gen(function*() {
          const { tenantId } = yield* CurrentTenant
          const stats = yield* outcomes.stats(tenantId, urlParams.window)
          return new VoiceOutcomeStatsResponse({ ok: true, tenant: tenantId, stats })
        }).pipe(asApiErrors))
      .handle("timeseries", ({ urlParams }) =>
        Effect.gen(function*() {
          const { tenantId } = yield* CurrentTenant
          const timeseries = yield* outcomes.timeseries(tenantId, urlParams.window, urlParams.bucket)
          return new VoiceOutcomeTimeseriesResponse({ ok: true, tenant: tenantId, timeseries })
        }).pipe(asApiErrors))
      .handle("byStream", ({ path }) =>
        Effect.flatMap(CurrentTenant, ({ tenantId }) =>
          outcomes.byStream(tenantId, path.stream_sid).pipe(Effect.map(detail(tenantId)))).pipe(asApiErrors))
      .handle("get", ({ path }) =>
        Effect.flatMap(CurrentTenant, ({ tenantId }) =>
          outcomes.get(tenantId, path.id).pipe(Effect.map(detail(tenantId)))).pipe(asApiErrors))
  }))
