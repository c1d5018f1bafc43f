import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { asApiErrors } from "../Http/ErrorMapping.js"
import { jsonFields, tenantReport } from "../Http/RawJson.js"
import {
  type OutcomeSeriesQuery,
  type OutcomeStatsQuery,
  VoiceOutcomeDetailResponse,
  VoiceOutcomesListResponse,
  VoiceOutcomeStatsResponse,
  VoiceOutcomeTimeseries,
  VoiceOutcomeTimeseriesResponse
} from "./Api.js"
import { VoiceOutcomes } from "./VoiceOutcomes.js"

const statsResponse = tenantReport(VoiceOutcomeStatsResponse.fields)
const timeseriesResponse = tenantReport(VoiceOutcomeTimeseriesResponse.fields)
const timeseriesJson = jsonFields(VoiceOutcomeTimeseries.fields)

// The statistics are JSON written by PostgreSQL in the wire schemas' order (RollupSql.ts).

/** The window's outcome statistics (`get_voice_outcome_stats`); also served by the hot-read route. */
export const outcomeStats = (outcomes: VoiceOutcomes, tenantId: string, urlParams: OutcomeStatsQuery) =>
  asApiErrors(Effect.map(outcomes.stats(tenantId, urlParams.window), (stats) =>
    statsResponse(tenantId, { stats })))

/** The window's outcomes per bucket (`get_voice_outcome_timeseries`); also served by the hot-read route. */
export const outcomeSeries = (outcomes: VoiceOutcomes, tenantId: string, urlParams: OutcomeSeriesQuery) =>
  asApiErrors(Effect.map(outcomes.timeseries(tenantId, urlParams.window, urlParams.bucket), (series) =>
    timeseriesResponse(tenantId, {
      timeseries: timeseriesJson({ bucket: JSON.stringify(series.bucket), points: series.points, window: JSON.stringify(series.window) })
    })))

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
      .handle("stats", ({ urlParams }) => Effect.flatMap(CurrentTenant, ({ tenantId }) => outcomeStats(outcomes, tenantId, urlParams)))
      .handle("timeseries", ({ urlParams }) =>
        Effect.flatMap(CurrentTenant, ({ tenantId }) => outcomeSeries(outcomes, tenantId, urlParams)))
      .handle("byStream", ({ path }) =>
        Effect.flatMap(CurrentTenant, ({ tenantId }) =>
          outcomes.byStream(tenantId, path.stream_sid).pipe(Effect.map(detail(tenantId)))).pipe(asApiErrors))
      .handle("get", ({ path }) =>
        Effect.flatMap(CurrentTenant, ({ tenantId }) =>
          outcomes.get(tenantId, path.id).pipe(Effect.map(detail(tenantId)))).pipe(asApiErrors))
  }))
