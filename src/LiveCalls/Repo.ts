import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import { Effect, Option, Schema } from "effect"
import { orNothing, orUnavailable } from "../Database/Errors.js"
import { makeExecute } from "../Database/HotStatement.js"
import type { StatementPart } from "../Database/StatementParts.js"
import { Timestamp } from "../Http/Schemas.js"
import type { TokenUse } from "../Auth/StreamTokens.js"
import { admissionsSettled } from "../Limits/Repo.js"
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
     * For many stream starts at once (LiveCalls/RedeemBatches.ts), per entry what one start's
     * statement did: records the stream token's single use and, only if this was its first, the
     * ledger row (and settles the call's admission: Limits/Repo.ts `admissionsSettled`). One
     * statement, one transaction and one synchronous commit for all; the answer is `held` per
     * entry, in the entries' order. False (and no row) when the token was used before.
     * Safe to retry: an earlier attempt that committed but whose answer was lost left this very
     * row (same stream, replica and start time, which a replay on another socket cannot have).
     * The entries' token ids, and their streams, must all differ (RedeemBatches sees to it): which
     * entry spent a token is then never ambiguous, and no row is inserted twice in one statement.
     * Columns are sent as arrays, so the text is the same for any batch size and stays one named
     * prepared statement; rows are written in key order, so two replicas' batches lock alike.
     */
    const insertRedeemingBatch = (entries: ReadonlyArray<Redeeming>, replicaId: string) => {
      const c = columnsOf(entries)
      return orUnavailable(execute(sql<{ held: boolean }>`
        with entries as (
          select * from unnest(
            ${c.tokenId}::text[], ${c.useTenantId}::text[], ${c.useCallSid}::text[], ${c.expiresAt}::timestamptz[],
            ${c.tenantId}::text[], ${c.streamSid}::text[], ${c.callSid}::text[], ${c.direction}::text[],
            ${c.from}::text[], ${c.to}::text[], ${c.agentVersionId}::text[], ${c.model}::text[], ${c.voice}::text[],
            ${c.startedAt}::timestamptz[], ${c.customerPhone}::text[], ${c.agentName}::text[], ${c.greeting}::text[],
            ${c.orgId}::text[]
          ) with ordinality as e(token_id, use_tenant_id, use_call_sid, expires_at, tenant_id, stream_sid, call_sid,
            direction, from_number, to_number, agent_version_id, model, voice, started_at, customer_phone, agent_name,
            greeting, org_id, n)
        ), used as (
          insert into stream_token_uses (token_id, tenant_id, call_sid, expires_at)
          select token_id, use_tenant_id, use_call_sid, expires_at from entries order by token_id
          on conflict (token_id) do nothing
          returning token_id
        ), inserted as (
          insert into live_calls ${columns}
          select e.tenant_id, e.stream_sid, e.call_sid, ${replicaId}::text, e.direction, e.from_number, e.to_number,
            e.agent_version_id, e.model, e.voice, e.started_at, e.customer_phone, e.agent_name, e.greeting, e.org_id
          from entries e join used u on u.token_id = e.token_id
          order by e.tenant_id, e.stream_sid
          ${renewed}
          returning tenant_id, stream_sid
        ), settling as (
          select e.tenant_id, e.call_sid from entries e
          join inserted i on i.tenant_id = e.tenant_id and i.stream_sid = e.stream_sid
        ), settled as (
          ${admissionsSettled(sql, "settling")}
        )
        select exists (select 1 from inserted i where i.tenant_id = e.tenant_id and i.stream_sid = e.stream_sid)
          or exists (
            select 1 from live_calls l
            where l.tenant_id = e.tenant_id and l.stream_sid = e.stream_sid and l.replica_id = ${replicaId}::text
              and l.started_at = e.started_at
          ) as held
        from entries e
        order by e.n`)).pipe(Effect.map((rows) => entries.map((_, i) => rows[i]?.held === true)))
    }

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
      insertRedeemingBatch,
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

/** One stream start for `insertRedeemingBatch`: the call's ledger row and its token's use. */
export interface Redeeming {
  readonly call: LiveCall
  readonly use: TokenUse
}

/** The entries column by column, each sent as one array parameter. */
const columnsOf = (entries: ReadonlyArray<Redeeming>) => {
  const column = <A>(f: (entry: Redeeming) => A): Array<A> => entries.map(f)
  return {
    tokenId: column((e) => e.use.tokenId),
    useTenantId: column((e) => e.use.tenantId),
    useCallSid: column((e) => e.use.callSid),
    expiresAt: column((e) => e.use.expiresAt),
    tenantId: column((e) => e.call.tenantId),
    streamSid: column((e) => e.call.streamSid),
    callSid: column((e) => e.call.callSid),
    direction: column((e) => e.call.direction),
    from: column((e) => e.call.from),
    to: column((e) => e.call.to),
    agentVersionId: column((e) => e.call.agentVersionId),
    model: column((e) => e.call.model),
    voice: column((e) => e.call.voice),
    startedAt: column((e) => e.call.startedAt),
    customerPhone: column((e) => customerPhone(e.call)),
    agentName: column((e) => e.call.agentName),
    greeting: column((e) => e.call.greeting),
    orgId: column((e) => e.call.orgId)
  }
}
