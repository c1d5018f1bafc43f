import { SqlClient } from "@effect/sql"
import { Clock, Effect, Schedule } from "effect"

const WINDOW_MS = 60_000

export interface RateLimitDecision {
  readonly allowed: boolean
  /** Seconds until the current window ends. */
  readonly retryAfterSeconds: number
}

/**
 * Fixed one-minute windows counted in PostgreSQL, so the limit holds across replicas.
 * Once a bucket is over its limit this replica answers from memory until the window ends
 * (no write per rejected request). If the database is unreachable the limiter lets
 * requests through rather than turning an outage into a wall of 429s.
 */
export class RateLimiter extends Effect.Service<RateLimiter>()("RateLimiter", {
  scoped: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const exhaustedUntil = new Map<string, number>()

    yield* sql`delete from rate_limit_windows where window_start < now() - interval '5 minutes'`.pipe(
      Effect.zipRight(Effect.sync(() => {
        const now = Date.now()
        for (const [bucket, until] of exhaustedUntil) if (until <= now) exhaustedUntil.delete(bucket)
      })),
      Effect.ignore,
      Effect.repeat(Schedule.spaced("1 minute")),
      Effect.delay("1 minute"),
      Effect.forkScoped
    )

    const hit = Effect.fn("RateLimiter.hit")(function*(bucket: string, limit: number) {
      const now = yield* Clock.currentTimeMillis
      const windowStart = now - (now % WINDOW_MS)
      const windowEnd = windowStart + WINDOW_MS
      const retryAfterSeconds = Math.max(1, Math.ceil((windowEnd - now) / 1000))
      if ((exhaustedUntil.get(bucket) ?? 0) > now) return { allowed: false, retryAfterSeconds }
      const hits = yield* sql<{ hits: number }>`
        insert into rate_limit_windows (bucket, window_start, hits)
        values (${bucket}, ${new Date(windowStart)}, 1)
        on conflict (bucket, window_start) do update set hits = rate_limit_windows.hits + 1
        returning hits`.pipe(
        Effect.map((rows) => rows[0]?.hits ?? 0),
        Effect.catchTag("SqlError", (error) =>
          Effect.as(Effect.logWarning("rate limiter cannot reach the database; allowing", error.message), 0))
      )
      if (hits > limit) {
        exhaustedUntil.set(bucket, windowEnd)
        return { allowed: false, retryAfterSeconds }
      }
      return { allowed: true, retryAfterSeconds }
    })

    return { hit } as const
  })
}) {}
