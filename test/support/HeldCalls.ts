import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { eventuallyHolds } from "./Eventually.js"

/**
 * Waits until the service holds the call (its stream token spent with its ledger row, in one
 * statement). Its model is spoken to before that (the upstream is used while the token is
 * spent), so an upstream's first message no longer says the call takes commands.
 */
export const untilHeld = (tenantId: string, streamSid: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    eventuallyHolds(
      sql`select 1 from live_calls where tenant_id = ${tenantId} and stream_sid = ${streamSid}`.pipe(Effect.orDie),
      (rows) => rows.length > 0
    ))
