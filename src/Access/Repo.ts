import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import { Effect, Schema } from "effect"
import { orNothing, orRefused } from "../Database/Errors.js"
import { ApiAccessRequest } from "./Api.js"

export interface NewAccessRequest {
  readonly id: string
  readonly company_name: string
  readonly contact_name: string
  readonly work_email: string
  readonly phone: string | null
  readonly role: string | null
  readonly website: string | null
  readonly use_case: string
  readonly expected_monthly_minutes: string | null
  readonly timeline: string | null
  readonly source: string
  readonly metadata: Record<string, unknown>
  readonly remote_addr: string | null
  readonly user_agent: string | null
}

const Filter = Schema.Struct({ status: Schema.NullOr(Schema.String), limit: Schema.Number, offset: Schema.Number })

/** SQL for `access_requests`. */
export class AccessRequestsRepo extends Effect.Service<AccessRequestsRepo>()("AccessRequestsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const page = SqlSchema.findAll({
      Request: Filter,
      Result: ApiAccessRequest,
      execute: ({ limit, offset, status }) =>
        sql`select * from access_requests
            where ${status === null ? sql`true` : sql`status = ${status}`}
            order by created_at desc, id limit ${limit} offset ${offset}`
    })

    const count = (status: string | null) =>
      sql<{ count: number }>`select count(*)::int as count from access_requests
        where ${status === null ? sql`true` : sql`status = ${status}`}`.pipe(Effect.map((rows) => rows[0]?.count ?? 0))

    return {
      /** Every field but the id comes from the prospect's form. */
      insert: (request: NewAccessRequest) =>
        orRefused(sql`insert into access_requests ${sql.insert({ ...request, metadata: JSON.stringify(request.metadata) })}`),
      // A status filter PostgreSQL cannot compare (NUL) matches nothing.
      page: (status: string | null, limit: number, offset: number) => orNothing(page({ status, limit, offset }), []),
      count: (status: string | null) => orNothing(count(status), 0)
    } as const
  })
}) {}
