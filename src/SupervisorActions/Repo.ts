import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Schema } from "effect"
import { SupervisorActionLog, type SupervisorActionType } from "./Schemas.js"
import { type StoredAction, storedActions, WIRE_ACTION_SQL } from "./WireAction.js"

export interface ActionFilters {
  readonly tenantId?: string
  readonly streamSid?: string
  readonly action?: SupervisorActionType
  readonly limit: number
  readonly offset: number
}

export interface NewAction {
  readonly id: string
  readonly tenantId: string
  readonly streamSid: string
  readonly callSid: string | null
  readonly action: StoredAction
  readonly supervisor: string
  readonly target: string | null
  readonly reason: string | null
  readonly note: string | null
  readonly metadata: unknown
  readonly at: Date
}

const decode = Schema.decodeUnknown(Schema.Array(SupervisorActionLog))

/** SQL for `supervisor_actions`. */
export class SupervisorActionsRepo extends Effect.Service<SupervisorActionsRepo>()("SupervisorActionsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const where = (f: ActionFilters) =>
      sql.and([
        ...(f.tenantId === undefined ? [] : [sql`tenant_id = ${f.tenantId}`]),
        ...(f.streamSid === undefined ? [] : [sql`stream_sid = ${f.streamSid}`]),
        ...(f.action === undefined ? [] : [sql`action in ${sql.in(storedActions(f.action))}`])
      ])
    const list = (f: ActionFilters) =>
      sql`select id, tenant_id, stream_sid, call_sid, ${sql.literal(WIRE_ACTION_SQL)} as action, supervisor, target,
            reason, note, metadata, created_at
          from supervisor_actions where ${where(f)} order by created_at desc, id
          limit ${f.limit} offset ${f.offset}`.pipe(Effect.flatMap(decode))
    const count = (f: ActionFilters) =>
      sql<{ n: number }>`select count(*)::int as n from supervisor_actions where ${where(f)}`.pipe(
        Effect.map((rows) => rows[0]?.n ?? 0)
      )
    const insert = (a: NewAction) =>
      sql`insert into supervisor_actions (id, tenant_id, stream_sid, call_sid, action, supervisor, target, reason, note,
            metadata, created_at)
          values (${a.id}, ${a.tenantId}, ${a.streamSid}, ${a.callSid}, ${a.action}, ${a.supervisor}, ${a.target},
            ${a.reason}, ${a.note}, ${JSON.stringify(a.metadata ?? {})}::jsonb, ${a.at})`.pipe(Effect.asVoid)
    return { list, count, insert } as const
  })
}) {}
