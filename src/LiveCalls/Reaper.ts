import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import { CallRecords, type CompletedCall } from "../CallLogs/CallRecords.js"
import { orUnavailable } from "../Database/Errors.js"
import { measureSweep } from "../Observability/Metrics.js"
import { LiveCallsRepo, type LiveCallRow } from "./Repo.js"

const REAP_BATCH = 100

/** A call nobody holds any more (its replica died, or failed to record it): what can still be said. */
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
  errorMessage: "the replica holding this call could not record its end (it stopped, or its record write failed)",
  transcript: [],
  functionCalls: [],
  turnLatencies: [],
  escalated: row.escalated,
  escalationReason: null
})

/**
 * One reaping pass: rows whose heartbeat went stale are claimed with `FOR UPDATE SKIP
 * LOCKED` (so two replicas never take the same one), their calls recorded as failed
 * (CallRecords is idempotent per stream) and removed. Returns how many were reaped.
 */
export const makeReaper = Effect.gen(function*() {
  const repo = yield* LiveCallsRepo
  const records = yield* CallRecords
  const sql = yield* SqlClient.SqlClient
  return (staleSeconds: number) =>
    orUnavailable(sql.withTransaction(Effect.gen(function*() {
      const stale = yield* repo.claimStale(staleSeconds, REAP_BATCH)
      for (const row of stale) {
        // One statement: the record (written once per stream) and the row leaving the ledger.
        yield* records.recordCompletedCall(abandoned(row), [repo.removalPart(row.tenant_id, row.stream_sid)])
      }
      if (stale.length > 0) {
        yield* Effect.logWarning("reaped calls nobody holds any more").pipe(Effect.annotateLogs("calls", stale.length))
      }
      return stale.length
    }))).pipe(measureSweep("live_calls_reaper", (reaped) => reaped))
})
