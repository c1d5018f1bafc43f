import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { asApiErrors } from "../Http/ErrorMapping.js"
import { CallLogs } from "./CallLogs.js"
import { jsonFields, jsonList, tenantReport } from "../Http/RawJson.js"
import { summaryJson } from "./ListJson.js"
import type { CallLogFilters, LatencyQuery } from "./Api.js"
import { callLogDetailResponse } from "./DetailJson.js"
import { CallLatencyResponse, CallLogsListResponse, CallStatsResponse, LatencyTimeseries } from "./Schemas.js"

const latencyResponse = tenantReport(CallLatencyResponse.fields)
const statsResponse = tenantReport(CallStatsResponse.fields)
const latencyTimeseries = jsonFields(LatencyTimeseries.fields)
const listJson = jsonList(CallLogsListResponse.fields, "calls")

/** A page of the tenant's calls (`list_call_logs`); also served by the hot-read route (Http/HotReads.ts). */
export const callLogsPage = (callLogs: CallLogs, tenantId: string, urlParams: CallLogFilters) =>
  asApiErrors(Effect.map(callLogs.list(tenantId, urlParams), (page) =>
    listJson({ ok: true, tenant: tenantId, count: page.calls.length, next_cursor: page.nextCursor }, (out) => summaryJson.rowsOfValues(out, page.calls, 0))))

/** One call of the tenant (`get_call_log`); also served by the hot-read route. */
export const callLogDetail = (callLogs: CallLogs, tenantId: string, id: string) =>
  asApiErrors(Effect.flatMap(callLogs.get(tenantId, id), callLogDetailResponse))

/** The tenant's call statistics (`get_call_stats`); also served by the hot-read route. */
export const callLogStats = (callLogs: CallLogs, tenantId: string) =>
  asApiErrors(Effect.map(callLogs.stats(tenantId), (stats) =>
    // The stats are JSON written by PostgreSQL in CallStats' order (AnalyticsRepo.ts).
    statsResponse(tenantId, { stats })))

/** The tenant's turn latency report (`get_call_latency`); also served by the hot-read route. */
export const callLogLatency = (callLogs: CallLogs, tenantId: string, urlParams: LatencyQuery) =>
  asApiErrors(Effect.map(callLogs.latency(tenantId, urlParams.window ?? "24h", urlParams.samples ?? 10), (report) =>
    // The report's parts are JSON written by PostgreSQL in the schemas' order (LatencyRepo.ts).
    latencyResponse(tenantId, {
      slowest: report.slowest,
      stats: report.stats,
      timeseries: latencyTimeseries({
        bucket: JSON.stringify(report.bucket),
        points: report.points,
        window: JSON.stringify(report.window)
      })
    })))

export const CallLogsHttp = HttpApiBuilder.group(Api, "callLogs", (handlers) =>
  Effect.gen(function*() {
    const callLogs = yield* CallLogs

    return handlers
      .handle("list", ({ urlParams }) =>
        Effect.flatMap(CurrentTenant, (tenant) => callLogsPage(callLogs, tenant.tenantId, urlParams)))
      .handle("get", ({ path }) =>
        Effect.flatMap(CurrentTenant, (tenant) => callLogDetail(callLogs, tenant.tenantId, path.id)))
      .handle("stats", () => Effect.flatMap(CurrentTenant, (tenant) => callLogStats(callLogs, tenant.tenantId)))
      .handle("latency", ({ urlParams }) =>
        Effect.flatMap(CurrentTenant, (tenant) => callLogLatency(callLogs, tenant.tenantId, urlParams)))
  }))
