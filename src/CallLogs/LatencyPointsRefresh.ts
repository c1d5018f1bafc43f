import { PgClient } from "@effect/sql-pg"
import { Config, Duration, Effect, Schedule } from "effect"
import { Migrations } from "../Database/Migrations.js"

/** Days whose points one run caches at most; the rest wait for the next run. */
const BATCH = 500

/**
 * Caches the latency report's day points (migration 0036, call_log_latency_days_refresh) of the
 * days written since they were cached, on every replica every LATENCY_POINTS_REFRESH_SECS (0 = off).
 * Only speed depends on it: the report sorts a day's rows itself while its cached point is behind.
 * Two replicas at once are safe: a point is replaced only by one computed after more changes.
 */
export class LatencyPointsRefresh extends Effect.Service<LatencyPointsRefresh>()("LatencyPointsRefresh", {
  scoped: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const migrations = yield* Migrations
    const intervalSecs = yield* Config.integer("LATENCY_POINTS_REFRESH_SECS").pipe(
      Config.withDefault(30),
      Config.validate({ message: "LATENCY_POINTS_REFRESH_SECS must be 0 or more", validation: (n) => n >= 0 })
    )

    /** Caches up to `batch` days' points; how many were cached. */
    const refresh = (batch: number) =>
      Effect.map(sql<{ refreshed: number }>`select call_log_latency_days_refresh(${batch}) as refreshed`, (rows) => rows[0]!.refreshed)

    if (intervalSecs > 0) {
      yield* migrations.awaitApplied.pipe(
        Effect.zipRight(Effect.repeat(
          refresh(BATCH).pipe(Effect.catchAllCause((cause) => Effect.logWarning("latency points refresh failed", cause))),
          Schedule.spaced(Duration.seconds(intervalSecs))
        )),
        Effect.forkScoped
      )
    }
    return { refresh } as const
  })
}) {}
