import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import { orNothing, orUnavailable } from "../Database/Errors.js"
import { Timestamp } from "../Http/Schemas.js"
import type { LiveCall } from "./Domain.js"
import { customerPhone } from "./Domain.js"

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
  heartbeat_at: Timestamp,
  customer_phone: Schema.NullOr(Schema.String),
  agent_name: Schema.NullOr(Schema.String),
  greeting: Schema.NullOr(Schema.String),
  org_id: Schema.NullOr(Schema.String),
  escalated: Schema.Boolean,
  escalation_target: Schema.NullOr(Schema.String),
  /** Set by a supervisor's `monitor` action (migrations/0013_live_call_monitoring.sql). */
  monitored_at: Schema.NullOr(Timestamp),
  monitored_by: Schema.NullOr(Schema.String)
}) {}

/** SQL for `live_calls` (migrations/0005_media.sql, 0006_live_calls.sql). */
export class LiveCallsRepo extends Effect.Service<LiveCallsRepo>()("LiveCallsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const insert = (call: LiveCall, replicaId: string) =>
      orUnavailable(sql`
        insert into live_calls (tenant_id, stream_sid, call_sid, replica_id, direction, from_number, to_number,
          agent_version_id, model, voice, started_at, customer_phone, agent_name, greeting, org_id)
        values (${call.tenantId}, ${call.streamSid}, ${call.callSid}, ${replicaId}, ${call.direction},
          ${call.from}, ${call.to}, ${call.agentVersionId}, ${call.model}, ${call.voice}, ${call.startedAt},
          ${customerPhone(call)}, ${call.agentName}, ${call.greeting}, ${call.orgId})
        on conflict (tenant_id, stream_sid) do update set replica_id = excluded.replica_id, heartbeat_at = now()`)

    const remove = (tenantId: string, streamSid: string) =>
      orUnavailable(sql`delete from live_calls where tenant_id = ${tenantId} and stream_sid = ${streamSid}`)

    const markEscalated = (tenantId: string, streamSid: string, target: string) =>
      orUnavailable(sql`
        update live_calls set escalated = true, escalation_target = ${target}
        where tenant_id = ${tenantId} and stream_sid = ${streamSid}`)

    /** One statement per beat for all the calls a replica holds, however many. */
    const beat = (replicaId: string, streamSids: ReadonlyArray<string>) =>
      orUnavailable(sql`
        update live_calls set heartbeat_at = now()
        where replica_id = ${replicaId} and stream_sid in ${sql.in(streamSids)}`)

    /** Every replica's calls (of one tenant, or all), oldest first. */
    const listed = SqlSchema.findAll({
      Request: Schema.NullOr(Schema.String),
      Result: LiveCallRow,
      execute: (tenantId) =>
        sql`select * from live_calls
            where ${tenantId === null ? sql`true` : sql`tenant_id = ${tenantId}`}
            order by started_at, stream_sid`
    })

    const find = SqlSchema.findOne({
      Request: Schema.Struct({ tenantId: Schema.String, streamSid: Schema.String }),
      Result: LiveCallRow,
      execute: ({ streamSid, tenantId }) =>
        sql`select * from live_calls where tenant_id = ${tenantId} and stream_sid = ${streamSid}`
    })

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

    /** Where a tenant's call runs, and whether that replica stopped beating (judged on the database's clock). */
    const locate = SqlSchema.findOne({
      Request: Schema.Struct({ tenantId: Schema.String, streamSid: Schema.String, staleSeconds: Schema.Number }),
      Result: Schema.Struct({ replica_id: Schema.String, call_sid: Schema.NullOr(Schema.String), stale: Schema.Boolean }),
      execute: ({ staleSeconds, streamSid, tenantId }) =>
        sql`select replica_id, call_sid, heartbeat_at < now() - make_interval(secs => ${staleSeconds}) as stale
            from live_calls where tenant_id = ${tenantId} and stream_sid = ${streamSid}`
    })

    const markMonitored = (tenantId: string, streamSid: string, supervisor: string) =>
      orUnavailable(sql`
        update live_calls set monitored_at = now(), monitored_by = ${supervisor}
        where tenant_id = ${tenantId} and stream_sid = ${streamSid}`)

    return {
      insert,
      markMonitored,
      locate: (tenantId: string, streamSid: string, staleSeconds: number) =>
        orNothing(locate({ tenantId, streamSid, staleSeconds }), Option.none()),
      remove,
      markEscalated,
      beat,
      list: (tenantId: string | null) => orUnavailable(listed(tenantId)),
      find: (tenantId: string, streamSid: string) => orUnavailable(find({ tenantId, streamSid })),
      claimStale: (staleSeconds: number, limit: number) => orUnavailable(claimStale({ staleSeconds, limit }))
    } as const
  })
}) {}
