import { SqlClient } from "@effect/sql"
import { Clock, Effect, Schedule } from "effect"
import { Migrations } from "../Database/Migrations.js"

const WINDOW_MS = 60_000
/** A replica leases at most this share of a window's allowance at a time. */
const LEASE_FRACTION = 20

export interface RateLimitDecision {
  readonly allowed: boolean
  /** Seconds until the current window ends. */
  readonly retryAfterSeconds: number
}

interface Lease {
  windowStart: number
  remaining: number
  exhausted: boolean
}

/**
 * Fixed one-minute windows counted in PostgreSQL, so a limit holds across replicas.
 * Instead of writing every request, a replica leases a slice of the window's allowance
 * (limit/20, at least 1) with one atomic increment and spends it locally; the sum of all
 * leases never exceeds the limit, so the limit is exact from above (a replica may end a
 * window with a few unspent requests). If PostgreSQL is unreachable the limiter lets
 * requests through rather than turning an outage into a wall of 429s.
 */
export class RateLimiter extends Effect.Service<RateLimiter>()("RateLimiter", {
  scoped: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const migrations = yield* Migrations
    const leases = new Map<string, Lease>()

    yield* migrations.awaitApplied.pipe(
      Effect.zipRight(
        sql`delete from rate_limit_windows where window_start < now() - interval '5 minutes'`.pipe(
          Effect.zipRight(Effect.sync(() => {
            const current = Date.now() - (Date.now() % WINDOW_MS)
            for (const [bucket, lease] of leases) if (lease.windowStart < current) leases.delete(bucket)
          })),
          Effect.ignore,
          Effect.repeat(Schedule.spaced("1 minute"))
        )
      ),
      Effect.forkScoped
    )

    /** Reserves up to `want` requests of the window; returns how many were granted. */
    const lease = (bucket: string, windowStart: number, want: number, limit: number) =>
      sql<{ hits: number }>`
        insert into rate_limit_windows (bucket, window_start, hits)
        values (${bucket}, ${new Date(windowStart)}, ${want})
        on conflict (bucket, window_start) do update set hits = rate_limit_windows.hits + ${want}
        returning hits`.pipe(
        Effect.map((rows) => {
          const total = rows[0]?.hits ?? want
          return Math.max(0, Math.min(want, limit - (total - want)))
        }),
        Effect.catchTag("SqlError", (error) =>
          Effect.as(Effect.logWarning("rate limiter cannot reach the database; allowing", error.message), want))
      )

    const hit = Effect.fn("RateLimiter.hit")(function*(bucket: string, limit: number) {
      const now = yield* Clock.currentTimeMillis
      const windowStart = now - (now % WINDOW_MS)
      const retryAfterSeconds = Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000))
      let current = leases.get(bucket)
      if (current === undefined || current.windowStart !== windowStart) {
        current = { windowStart, remaining: 0, exhausted: false }
        leases.set(bucket, current)
      }
      if (current.remaining === 0 && !current.exhausted) {
        const granted = yield* lease(bucket, windowStart, Math.max(1, Math.floor(limit / LEASE_FRACTION)), limit)
        current.remaining += granted
        if (granted === 0) current.exhausted = true
      }
      if (current.remaining === 0) return { allowed: false, retryAfterSeconds }
      current.remaining--
      return { allowed: true, retryAfterSeconds }
    })

    return { hit } as const
  })
}) {}
