import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { orUnavailable } from "../Database/Errors.js"
import { Timestamp } from "../Http/Schemas.js"

/** A `live_calls` row: a call some replica holds (or held, if its heartbeat is stale). */
export class LiveCallRow extends Schema.Class<LiveCallRow>("LiveCallRow")({
  tenant_id: Schema.String,
  stream_sid: Schema.String,
  call_sid: Schema.NullOr(Schema.String),
  replica_id: Schema.String,
  direction: Schema.Literal("inbound", "outbound"),
  from_number: Schema.NullOr(Schema.String),
  to_number: Schema.NullOr(Schema.String),
  agent_version_id: Schema.NullOr(Schema.String),
  model: Schema.String,
  voice: Schema.String,
  started_at: Timestamp,
  heartbeat_at: Timestamp
}) {}

export type NewLiveCall = Omit<LiveCallRow, "heartbeat_at">

/** SQL for `live_calls` (migrations/0005_media.sql). */
export class LiveCallsRepo extends Effect.Service<LiveCallsRepo>()("LiveCallsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const insert = (row: NewLiveCall) =>
      orUnavailable(sql`
        insert into live_calls (tenant_id, stream_sid, call_sid, replica_id, direction, from_number, to_number,
          agent_version_id, model, voice, started_at)
        values (${row.tenant_id}, ${row.stream_sid}, ${row.call_sid}, ${row.replica_id}, ${row.direction},
          ${row.from_number}, ${row.to_number}, ${row.agent_version_id}, ${row.model}, ${row.voice}, ${row.started_at})
        on conflict (tenant_id, stream_sid) do update set replica_id = excluded.replica_id, heartbeat_at = now()`)

    const remove = (tenantId: string, streamSid: string) =>
      orUnavailable(sql`delete from live_calls where tenant_id = ${tenantId} and stream_sid = ${streamSid}`)

    /** One statement per beat for all of a replica's calls, however many. */
    const beat = (replicaId: string) =>
      orUnavailable(sql`update live_calls set heartbeat_at = now() where replica_id = ${replicaId}`)

    /** Rows whose replica stopped beating, locked for this transaction (another replica skips them). */
    const claimStale = SqlSchema.findAll({
      Request: Schema.Struct({ staleSeconds: Schema.Number, limit: Schema.Number }),
      Result: LiveCallRow,
      execute: ({ limit, staleSeconds }) =>
        sql`select * from live_calls
            where heartbeat_at < now() - make_interval(secs => ${staleSeconds})
            order by heartbeat_at
            limit ${limit}
            for update skip locked`
    })

    return {
      insert,
      remove,
      beat,
      claimStale: (staleSeconds: number, limit: number) => orUnavailable(claimStale({ staleSeconds, limit }))
    } as const
  })
}) {}
