import { PgClient } from "@effect/sql-pg"
import { Effect, Either, Schema } from "effect"
import { callStatsRow } from "../../src/CallLogs/AnalyticsRepo.js"
import { CallStats, CallStatsResponse } from "../../src/CallLogs/Schemas.js"
import { VoiceSessionEvalStats } from "../../src/VoiceEvals/Api.js"
import { evalStatsRow } from "../../src/VoiceEvals/Repo.js"
import {
  VoiceOutcomeCount,
  VoiceOutcomeStats,
  VoiceOutcomeStatsResponse,
  VoiceOutcomeTimeseries,
  VoiceOutcomeTimeseriesPoint,
  VoiceOutcomeTimeseriesResponse
} from "../../src/VoiceOutcomes/Api.js"
import * as Rollups from "../../src/VoiceOutcomes/RollupSql.js"
import { parseSeries, parseWindow } from "../../src/VoiceOutcomes/Windows.js"

/**
 * The statistics' bodies as the service wrote them before PostgreSQL wrote their JSON (main at
 * 706b4dd): the same rollup statements' rows decoded with Schema, the wire classes built from
 * them and the response encoded by its schema, as HttpApi does (JSON.stringify of the encoded
 * value). Totals and mixes were two statements then.
 */

const Count = Schema.Number
const StatsRow = Schema.Struct({
  total_calls: Count,
  completed_calls: Count,
  escalated_calls: Count,
  failed_calls: Count,
  answered_calls: Count,
  voicemail_calls: Count,
  no_answer_calls: Count,
  busy_calls: Count,
  failed_outcome_calls: Count,
  outcome_calls: Count,
  calls_last_24h: Count,
  avg_duration_seconds: Schema.NullOr(Schema.Number)
})

const Totals = Schema.Struct({
  total: Schema.Number,
  billable: Schema.Number,
  not_billable: Schema.Number,
  pending_emit: Schema.Number,
  emitted: Schema.Number,
  failed_billing: Schema.Number,
  escalated: Schema.Number,
  avg_duration_seconds: Schema.NullOr(Schema.Number)
})

const Mixes = Schema.Struct({
  resolution: Schema.Array(VoiceOutcomeCount),
  billing_status: Schema.Array(VoiceOutcomeCount),
  billable_sku: Schema.Array(VoiceOutcomeCount),
  risk_level: Schema.Array(VoiceOutcomeCount)
})

const one = <A, I>(schema: Schema.Schema<A, I>) => (rows: ReadonlyArray<unknown>) => Schema.decodeUnknown(schema)(rows[0])

const encoded = <A, I>(schema: Schema.Schema<A, I>, value: A) => Effect.map(Schema.encode(schema)(value), (body) => JSON.stringify(body))

const orThrow = <A>(parsed: Either.Either<A, string>) => Either.getOrThrowWith(parsed, (message) => new Error(message))

export const callStatsBody = (tenantId: string) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const rows = yield* callStatsRow(sql, tenantId, new Date(Date.now() - 24 * 3600_000))
    const { outcome_calls, ...row } = yield* one(StatsRow)(rows)
    const stats = new CallStats({ ...row, answer_rate: outcome_calls === 0 ? null : row.answered_calls / outcome_calls })
    return yield* encoded(CallStatsResponse, new CallStatsResponse({ ok: true, tenant: tenantId, stats }))
  })

export const outcomeStatsBody = (tenantId: string, window: string | undefined) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const { seconds } = orThrow(parseWindow(window))
    const totals = yield* Effect.flatMap(Rollups.totals(sql, tenantId, seconds), one(Totals))
    const mix = yield* Effect.flatMap(Rollups.mixes(sql, tenantId, seconds), one(Mixes))
    const stats = new VoiceOutcomeStats({
      ...totals,
      resolution_mix: mix.resolution,
      billing_status_mix: mix.billing_status,
      sku_mix: mix.billable_sku,
      risk_mix: mix.risk_level
    })
    return yield* encoded(VoiceOutcomeStatsResponse, new VoiceOutcomeStatsResponse({ ok: true, tenant: tenantId, stats }))
  })

export const outcomeSeriesBody = (tenantId: string, window: string | undefined, bucket: string | undefined) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const span = orThrow(parseSeries(window, bucket))
    const rows = yield* Rollups.series(sql, tenantId, span.window.seconds, span.bucket.seconds)
    const points = yield* Schema.decodeUnknown(Schema.Array(VoiceOutcomeTimeseriesPoint))(rows)
    const timeseries = new VoiceOutcomeTimeseries({ window: span.window.label, bucket: span.bucket.label, points })
    return yield* encoded(VoiceOutcomeTimeseriesResponse, new VoiceOutcomeTimeseriesResponse({ ok: true, tenant: tenantId, timeseries }))
  })

export const evalStatsBody = (tenantId: string) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const stats = yield* Effect.flatMap(evalStatsRow(sql, tenantId), one(VoiceSessionEvalStats))
    return yield* encoded(VoiceSessionEvalStats, stats)
  })
