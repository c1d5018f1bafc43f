import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { asApiErrors } from "../Http/ErrorMapping.js"
import { jsonFields, jsonText } from "../Http/RawJson.js"
import {
  VoiceOutcomeDetailResponse,
  VoiceOutcomesListResponse,
  VoiceOutcomeStatsResponse,
  VoiceOutcomeTimeseries,
  VoiceOutcomeTimeseriesResponse
} from "./Api.js"
import { VoiceOutcomes } from "./VoiceOutcomes.js"

const statsResponse = jsonFields(VoiceOutcomeStatsResponse.fields)
const timeseriesResponse = jsonFields(VoiceOutcomeTimeseriesResponse.fields)
const timeseriesJson = jsonFields(VoiceOutcomeTimeseries.fields)

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
      // The statistics are JSON written by PostgreSQL in the wire schemas' order (RollupSql.ts).
      .handle("stats", ({ urlParams }) =>
        Effect.flatMap(CurrentTenant, ({ tenantId }) =>
          Effect.map(outcomes.stats(tenantId, urlParams.window), (stats) =>
            jsonText(statsResponse({ ok: "true", stats, tenant: JSON.stringify(tenantId) })))).pipe(asApiErrors))
      .handle("timeseries", ({ urlParams }) =>
        Effect.flatMap(CurrentTenant, ({ tenantId }) =>
          Effect.map(outcomes.timeseries(tenantId, urlParams.window, urlParams.bucket), (series) =>
            jsonText(timeseriesResponse({
              ok: "true",
              tenant: JSON.stringify(tenantId),
              timeseries: timeseriesJson({
                bucket: JSON.stringify(series.bucket),
                points: series.points,
                window: JSON.stringify(series.window)
              })
            })))).pipe(asApiErrors))
      .handle("byStream", ({ path }) =>
        Effect.flatMap(CurrentTenant, ({ tenantId }) =>
          outcomes.byStream(tenantId, path.stream_sid).pipe(Effect.map(detail(tenantId)))).pipe(asApiErrors))
      .handle("get", ({ path }) =>
        Effect.flatMap(CurrentTenant, ({ tenantId }) =>
          outcomes.get(tenantId, path.id).pipe(Effect.map(detail(tenantId)))).pipe(asApiErrors))
  }))
