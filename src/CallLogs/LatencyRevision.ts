import { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import { orUnavailable } from "../Database/Errors.js"
import { makeExecute } from "../Database/HotStatement.js"

/**
 * What a tenant's latency report over the calls started since `since` (null: all time) is a
 * function of, as one string: equal strings, read in order, mean an equal report.
 *
 * - the tenant's revision (migration 0039): the sum of its slots, which grows with every write of
 *   a row the report reads and never comes back;
 * - the start of the oldest call in the window, to the microsecond. Without writes the window
 *   only loses calls as time passes (it has no end: later starts stay in), the oldest first; while
 *   the oldest is still in, no call has left. Calls within one millisecond leave together (the
 *   window starts on a whole millisecond), so a later request with an equal oldest start sees
 *   exactly the same calls.
 *
 * One index-only probe of each table (no more than 16 revision rows, one window-index entry).
 */
export class CallLatencyRevision extends Effect.Service<CallLatencyRevision>()("CallLatencyRevision", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const execute = yield* makeExecute(sql)

    // One shape for every window: `started_at >= null` (all time) matches nothing, so no oldest.
    const stamp = (tenantId: string, since: Date | null) =>
      orUnavailable(execute.prepared(sql<{ stamp: string }>`select
          (select coalesce(sum(revision), 0) from call_log_latency_revisions where tenant_id = ${tenantId})
          || '/' || coalesce((select (extract(epoch from min(started_at)) * 1000000)::int8 from call_log_latency
            where tenant_id = ${tenantId} and started_at >= ${since})::text, '-') as stamp`)).pipe(
        Effect.map((rows) => rows[0]!.stamp)
      )

    return { stamp } as const
  })
}) {}
