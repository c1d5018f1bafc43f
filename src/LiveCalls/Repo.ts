import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import { Effect, Option, Schema } from "effect"
import { orNothing, orUnavailable } from "../Database/Errors.js"
import { makeExecute } from "../Database/HotStatement.js"
import type { StatementPart } from "../Database/StatementParts.js"
import { Timestamp } from "../Http/Schemas.js"
import type { TokenUse } from "../Auth/StreamTokens.js"
import { admissionSettled } from "../Limits/Repo.js"
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
    // The stream start's ledger statement is on every call's set-up: without the per-statement wrapping,
    // and prepared by name (inserts and primary-key lookups: one plan suits every call).
    const execute = (yield* makeExecute(sql)).prepared

    const columns = sql`(tenant_id, stream_sid, call_sid, replica_id, direction, from_number, to_number,
          agent_version_id, model, voice, started_at, customer_phone, agent_name, greeting, org_id)`
    /** Typed: in `insert ... select` PostgreSQL does not take the parameters' types from the columns. */
    const row = (call: LiveCall, replicaId: string) =>
      sql`${call.tenantId}::text, ${call.streamSid}::text, ${call.callSid}::text, ${replicaId}::text,
          ${call.direction}::text, ${call.from}::text, ${call.to}::text, ${call.agentVersionId}::text,
          ${call.model}::text, ${call.voice}::text, ${call.startedAt}::timestamptz, ${customerPhone(call)}::text,
          ${call.agentName}::text, ${call.greeting}::text, ${call.orgId}::text`
    const renewed = sql`on conflict (tenant_id, stream_sid) do update set replica_id = excluded.replica_id, heartbeat_at = now()`

    const insert = (call: LiveCall, replicaId: string) =>
      orUnavailable(sql`insert into live_calls ${columns} values (${row(call, replicaId)}) ${renewed}`)

    /**
     * Records the stream token's single use and, only if this was its first, the ledger row
     * (and settles the call's admission: Limits/Repo.ts `admissionSettled`): one statement (one
     * transaction) for all. False (and no row) when the token was used before.
     * Safe to retry: an earlier attempt that committed but whose answer was lost left this very
     * row (same stream, replica and start time, which a replay on another socket cannot have).
     */
    const insertRedeeming = (call: LiveCall, replicaId: string, use: TokenUse) =>
      orUnavailable(execute(sql<{ held: boolean }>`
        with used as (
          insert into stream_token_uses (token_id, tenant_id, call_sid, expires_at)
          values (${use.tokenId}, ${use.tenantId}, ${use.callSid}, ${use.expiresAt})
          on conflict (token_id) do nothing
          returning token_id
        ), inserted as (
          insert into live_calls ${columns} select ${row(call, replicaId)} from used ${renewed}
          returning 1
        ), settled as (
          ${admissionSettled(sql, call.tenantId, call.callSid, "inserted")}
        )
        select exists (select 1 from inserted) or exists (
          select 1 from live_calls
          where tenant_id = ${call.tenantId} and stream_sid = ${call.streamSid} and replica_id = ${replicaId}
            and started_at = ${call.startedAt}::timestamptz
        ) as held`)).pipe(Effect.map((rows) => rows[0]?.held === true))

    const removal = (tenantId: string, streamSid: string) =>
      sql`delete from live_calls where tenant_id = ${tenantId} and stream_sid = ${streamSid}`

    const remove = (tenantId: string, streamSid: string) => orUnavailable(removal(tenantId, streamSid))

    /** The call leaving the ledger as a part of its record's statement (CallRecords): both commit, or neither. */
    const removalPart = (tenantId: string, streamSid: string): StatementPart => ({
      name: "left_live_calls",
      statement: removal(tenantId, streamSid)
    })

    const markEscalated = (tenantId: string, streamSid: string, target: string) =>
      orUnavailable(sql`
        update live_calls set escalated = true, escalation_target = ${target}
        where tenant_id = ${tenantId} and stream_sid = ${streamSid}`)

    /**
     * One statement per beat for all the calls a replica holds, however many: the streams as one
     * array parameter, not one parameter each (with 1,600 calls live that list was built, sent and
     * parsed every beat, and PostgreSQL takes at most 65,535 parameters).
     */
    const beat = (replicaId: string, streamSids: ReadonlyArray<string>) =>
      orUnavailable(sql`
        update live_calls set heartbeat_at = now()
        where replica_id = ${replicaId} and stream_sid = any(${streamSids}::text[])`)

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

    /**
     * Rows whose replica stopped beating, locked for this transaction (another replica skips them).
     * `escalated` here is whether a person answered a transfer of the call (the transfer's row,
     * or the call log's mark made when it was answered), not the live flag, which is set as soon
     * as a transfer is asked for: a replica that dies while its transfer is pending did not escalate.
     */
    const claimStale = SqlSchema.findAll({
      Request: Schema.Struct({ staleSeconds: Schema.Number, limit: Schema.Number }),
      Result: LiveCallRow,
      execute: ({ limit, staleSeconds }) =>
        sql`select l.tenant_id, l.stream_sid, l.call_sid, l.replica_id, l.direction, l.from_number, l.to_number,
              l.agent_version_id, l.model, l.voice, l.started_at, l.heartbeat_at, l.customer_phone, l.agent_name,
              l.greeting, l.org_id, l.escalation_target, l.monitored_at, l.monitored_by,
              l.call_sid is not null and (
                exists (select 1 from call_transfers t
                        where t.tenant_id = l.tenant_id and t.call_sid = l.call_sid and t.status = 'answered')
                or exists (select 1 from call_logs c
                           where c.tenant_id = l.tenant_id and c.call_sid = l.call_sid and c.escalated)
              ) as escalated
            from live_calls l
            where l.heartbeat_at < now() - make_interval(secs => ${staleSeconds})
            order by l.heartbeat_at
            limit ${limit}
            for update of l skip locked`
    })

    /** The stream of a tenant's live call with this Twilio call SID (the newest, after a transfer came back). */
    const streamOfCall = SqlSchema.findOne({
      Request: Schema.Struct({ tenantId: Schema.String, callSid: Schema.String }),
      Result: Schema.Struct({ stream_sid: Schema.String }),
      execute: ({ callSid, tenantId }) =>
        sql`select stream_sid from live_calls where tenant_id = ${tenantId} and call_sid = ${callSid}
            order by started_at desc limit 1`
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
      insertRedeeming,
      markMonitored,
      locate: (tenantId: string, streamSid: string, staleSeconds: number) =>
        orNothing(locate({ tenantId, streamSid, staleSeconds }), Option.none()),
      streamOfCall: (tenantId: string, callSid: string) =>
        orNothing(Effect.map(streamOfCall({ tenantId, callSid }), Option.map((row) => row.stream_sid)), Option.none()),
      remove,
      removalPart,
      markEscalated,
      beat,
      list: (tenantId: string | null) => orUnavailable(listed(tenantId)),
      find: (tenantId: string, streamSid: string) => orUnavailable(find({ tenantId, streamSid })),
      claimStale: (staleSeconds: number, limit: number) => orUnavailable(claimStale({ staleSeconds, limit }))
    } as const
  })
}) {}
