import { Config, Deferred, Effect, FiberId } from "effect"
import type { DatabaseUnavailable } from "../Database/Errors.js"
import { recordLatencyReportCache } from "../Observability/Metrics.js"
import { makeBoundedLru } from "./BoundedLru.js"
import type { LatencyReportJson } from "./LatencyJson.js"
import { CallLatencyRevision } from "./LatencyRevision.js"

/** A latency report as CallLogs answers it: its JSON parts, the bucket and the window. */
export interface LatencyReport extends LatencyReportJson {
  readonly bucket: "hour" | "day"
  readonly window: string
}

/** A report computed, or being computed, at a stamp (LatencyRevision.ts). */
interface Held {
  readonly stamp: string
  readonly report: LatencyReport
}

interface Computing {
  readonly stamp: string
  readonly done: Deferred.Deferred<LatencyReport, DatabaseUnavailable>
}

/** What a held report counts against the budget: its text (JSON: a byte a character), its key and the objects around them. */
const sizeOf = (key: string, report: LatencyReport) =>
  key.length + report.stats.length + report.slowest.length + report.points.length + 256

/**
 * call-logs/latency's reports kept by this replica, exact: a report is answered again only while
 * the stamp read for the request (one cheap statement, LatencyRevision.ts) is the one it was
 * computed at, so a write through any replica or by hand, or the window's oldest call leaving it,
 * is seen by the next request. Within LATENCY_REPORT_CACHE_MB (least recently used dropped first;
 * 0 = off, every request computes its report). Requests that miss one key at one stamp together
 * share one computation, run in this service's scope: a requester that goes away does not cancel
 * it for the others.
 */
export class LatencyReportCache extends Effect.Service<LatencyReportCache>()("LatencyReportCache", {
  scoped: Effect.gen(function*() {
    const revisions = yield* CallLatencyRevision
    const megabytes = yield* Config.number("LATENCY_REPORT_CACHE_MB").pipe(
      Config.withDefault(16),
      Config.validate({ message: "LATENCY_REPORT_CACHE_MB must be 0 or more", validation: (n) => n >= 0 })
    )
    const scope = yield* Effect.scope
    const held = makeBoundedLru<Held>(megabytes * 1024 * 1024)
    const computing = new Map<string, Computing>()

    const compute = (key: string, stamp: string, report: Effect.Effect<LatencyReport, DatabaseUnavailable>) =>
      Effect.suspend(() => {
        const mine: Computing = { stamp, done: Deferred.unsafeMake(FiberId.none) }
        computing.set(key, mine)
        return report.pipe(
          Effect.tap((answer) => Effect.sync(() => held.set(key, { stamp, report: answer }, sizeOf(key, answer)))),
          Effect.onExit((exit) =>
            Effect.suspend(() => {
              if (computing.get(key) === mine) computing.delete(key)
              return Deferred.done(mine.done, exit)
            })
          ),
          Effect.forkIn(scope),
          Effect.zipRight(Deferred.await(mine.done))
        )
      })

    /**
     * The report of `key` (every request parameter that shapes it, the tenant's included) over
     * the tenant's calls since `since`, from `report` when this replica holds none current.
     */
    const cached = (
      key: string,
      tenantId: string,
      since: Date | null,
      report: Effect.Effect<LatencyReport, DatabaseUnavailable>
    ): Effect.Effect<LatencyReport, DatabaseUnavailable> =>
      megabytes === 0 ? report : Effect.flatMap(revisions.stamp(tenantId, since), (stamp) => {
        const kept = held.get(key)
        if (kept !== undefined) {
          if (kept.stamp === stamp) {
            recordLatencyReportCache("hit")
            return Effect.succeed(kept.report)
          }
          // Its stamp never comes back.
          held.delete(key)
        }
        const running = computing.get(key)
        if (running !== undefined && running.stamp === stamp) {
          recordLatencyReportCache("shared")
          return Deferred.await(running.done)
        }
        recordLatencyReportCache("computed")
        return compute(key, stamp, report)
      })

    return { cached, usage: held.usage } as const
  }),
  dependencies: [CallLatencyRevision.Default]
}) {}
