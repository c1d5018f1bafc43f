import { SqlClient } from "@effect/sql"
import { Effect, Schedule } from "effect"
import { randomUUID } from "node:crypto"
import { CallRecords, type CompletedCall } from "../CallLogs/CallRecords.js"
import { orUnavailable } from "../Database/Errors.js"
import { Migrations } from "../Database/Migrations.js"
import { type LiveCallRow, LiveCallsRepo, type NewLiveCall } from "./Repo.js"
import { MediaConfig } from "../Media/MediaConfig.js"

const REAP_BATCH = 100

/** A call whose replica died: what can still be said about it. */
const abandoned = (row: LiveCallRow): CompletedCall => ({
  tenantId: row.tenant_id,
  streamSid: row.stream_sid,
  callSid: row.call_sid,
  direction: row.direction,
  from: row.from_number,
  to: row.to_number,
  agentVersionId: row.agent_version_id,
  model: row.model,
  voice: row.voice,
  startedAt: row.started_at,
  endedAt: row.heartbeat_at,
  endReason: "error",
  errorMessage: "the replica holding this call stopped before the call ended",
  transcript: [],
  functionCalls: [],
  turnLatencies: [],
  escalated: false,
  escalationReason: null
})

/**
 * The calls this replica holds, in PostgreSQL with one heartbeat statement per interval
 * for all of them. Every replica also reaps: rows whose heartbeat went stale (their
 * replica crashed) are claimed with `FOR UPDATE SKIP LOCKED`, their call recorded as
 * failed (CallRecords is idempotent per stream) and removed.
 */
export class LiveCallLedger extends Effect.Service<LiveCallLedger>()("LiveCallLedger", {
  scoped: Effect.gen(function*() {
    const repo = yield* LiveCallsRepo
    const records = yield* CallRecords
    const sql = yield* SqlClient.SqlClient
    const config = yield* MediaConfig
    const migrations = yield* Migrations
    const replicaId = randomUUID()

    const reap = Effect.fn("LiveCallLedger.reap")(function*() {
      return yield* orUnavailable(sql.withTransaction(Effect.gen(function*() {
        const stale = yield* repo.claimStale(config.reapAfterSeconds, REAP_BATCH)
        for (const row of stale) {
          yield* records.recordCompletedCall(abandoned(row))
          yield* repo.remove(row.tenant_id, row.stream_sid)
        }
        if (stale.length > 0) yield* Effect.logWarning("reaped calls of a replica that stopped").pipe(
          Effect.annotateLogs("calls", stale.length)
        )
        return stale.length
      })))
    })

    const every = Schedule.spaced(`${config.heartbeatSeconds} seconds`)
    const logged = <A, E>(what: string, effect: Effect.Effect<A, E>) =>
      Effect.catchAllCause(effect, (cause) => Effect.logWarning(`${what} failed`, cause))
    yield* migrations.awaitApplied.pipe(
      Effect.zipRight(Effect.all([
        Effect.repeat(logged("live call heartbeat", repo.beat(replicaId)), every),
        Effect.repeat(logged("live call reaper", reap()), every)
      ], { concurrency: "unbounded", discard: true })),
      Effect.forkScoped
    )

    return {
      /** Records a call as held here; a failure is logged, never fails the call. */
      add: (call: Omit<NewLiveCall, "replica_id">) =>
        logged("live call insert", repo.insert({ ...call, replica_id: replicaId })),
      remove: (tenantId: string, streamSid: string) => logged("live call delete", repo.remove(tenantId, streamSid)),
      /** One reaping pass now (what the background fiber repeats). */
      reap
    } as const
  }),
  dependencies: [LiveCallsRepo.Default, MediaConfig.Default]
}) {}
