import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Deferred, Effect, Schedule } from "effect"
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
  /** The lease being taken right now: concurrent first hits wait for it instead of taking their own. */
  inFlight: Deferred.Deferred<void> | undefined
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
          Effect.zipRight(Effect.map(Clock.currentTimeMillis, (now) => {
            const current = now - (now % WINDOW_MS)
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

    const entryFor = (bucket: string, windowStart: number): Lease => {
      const existing = leases.get(bucket)
      if (existing !== undefined && existing.windowStart === windowStart) return existing
      const fresh: Lease = { windowStart, remaining: 0, exhausted: false, inFlight: undefined }
      leases.set(bucket, fresh)
      return fresh
    }

    /** The window's allowance is spent locally; only an empty lease goes to PostgreSQL. */
    const refill = (bucket: string, limit: number, entry: Lease, windowStart: number, retryAfterSeconds: number) =>
      Effect.gen(function*() {
        while (entry.remaining === 0 && !entry.exhausted) {
          if (entry.inFlight !== undefined) {
            yield* Deferred.await(entry.inFlight)
            continue
          }
          const taking = yield* Deferred.make<void>()
          entry.inFlight = taking
          yield* lease(bucket, windowStart, Math.max(1, Math.floor(limit / LEASE_FRACTION)), limit).pipe(
            Effect.withSpan("RateLimiter.lease", { captureStackTrace: false }),
            Effect.tap((granted) =>
              Effect.sync(() => {
                entry.remaining += granted
                if (granted === 0) entry.exhausted = true
              })
            ),
            // Waiters wake only after the grant is counted, even if this request was abandoned.
            Effect.ensuring(Effect.suspend(() => {
              entry.inFlight = undefined
              return Deferred.succeed(taking, undefined)
            }))
          )
        }
        return spend(entry, retryAfterSeconds)
      })

    const spend = (entry: Lease, retryAfterSeconds: number): RateLimitDecision => {
      if (entry.remaining === 0) return { allowed: false, retryAfterSeconds }
      entry.remaining--
      return { allowed: true, retryAfterSeconds }
    }

    const retryAfter = (windowStart: number, now: number) => Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000))

    /**
     * The decision as plain code while the lease lasts (or the window is spent), which is
     * nearly every request; undefined when the lease is empty and must be refilled from
     * PostgreSQL (`hit`). Every request asks twice (address, tenant), so no Effect here.
     */
    const tryHit = (bucket: string, now: number): RateLimitDecision | undefined => {
      const windowStart = now - (now % WINDOW_MS)
      const entry = entryFor(bucket, windowStart)
      return entry.remaining > 0 || entry.exhausted ? spend(entry, retryAfter(windowStart, now)) : undefined
    }

    /** `tryHit`, refilling the lease from PostgreSQL when it is empty. */
    const hit = (bucket: string, limit: number): Effect.Effect<RateLimitDecision> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const windowStart = now - (now % WINDOW_MS)
        const decided = tryHit(bucket, now)
        return decided !== undefined
          ? Effect.succeed(decided)
          : refill(bucket, limit, entryFor(bucket, windowStart), windowStart, retryAfter(windowStart, now))
      })

    return { hit, tryHit } as const
  })
}) {}
